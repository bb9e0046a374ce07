// contracts-abi/ must be generated from the current contracts/ (and OpenZeppelin, compiler, settings).
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'

const ROOT = join(fileURLToPath(import.meta.url), '..', '..')

test('contracts-abi/ is up to date with contracts/', () => {
  const run = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build-contracts.mjs'), '--check'], {
    cwd: ROOT,
    encoding: 'utf8',
  })
  assert.equal(run.status, 0, `${run.stderr}\n(regenerate with: npm run build:contracts)`)
})

test('contracts-abi/ exports typed ABIs and bytecode for viem', async () => {
  const abi = await import('../contracts-abi/index.js')
  for (const name of ['imoToken', 'aigcCollection', 'imoOffering', 'erc1271Wallet']) {
    assert.ok(Array.isArray(abi[`${name}Abi` as keyof typeof abi]), `${name}Abi`)
    assert.match(String(abi[`${name}Bytecode` as keyof typeof abi]), /^0x[0-9a-f]{100,}$/, `${name}Bytecode`)
  }
  const fns = new Set<string>(abi.imoTokenAbi.filter((x) => x.type === 'function').map((x) => x.name))
  for (const f of ['claimableRevenue', 'claim', 'snapshot', 'redeemableOnBurn', 'burn', 'claimBatch', 'snapshotInfo']) {
    assert.ok(fns.has(f), `ImoToken.${f}`)
  }
})
