/**
 * From a new user's seat (issue 21 item 19): `imo infer` on a text model prints the text; `imo request`
 * without funds names the account to fund; `imo deploy` with too little names what the whole
 * deployment costs (not its first step's) and sends nothing; the help and the README cite no document
 * that is not in the repository.
 */
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { createWalletClient, type Hex, http, parseEther } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { foundry } from 'viem/chains'
import { type Anvil, startAnvil } from '../src/devnet/startAnvil.js'
import { client } from './helpers/deployFixture.js'
import { repoRoot, runCli } from './helpers/runCli.js'

const POOR_KEY = `0x${'11'.repeat(32)}` as Hex
const POOR = privateKeyToAccount(POOR_KEY).address
let anvil: Anvil
let dir: string

before(async () => {
  anvil = await startAnvil()
  dir = mkdtempSync(join(tmpdir(), 'imo-first-use-'))
})
after(async () => {
  await anvil.stop()
  rmSync(dir, { recursive: true, force: true })
})

describe("a new user's first commands", () => {
  it('imo infer on a text model prints the text (and gives it in --json)', async () => {
    const args = ['infer', '--model', join(repoRoot, 'models', 'tinylm'), '--prompt', 'The river', '--max-new-tokens', '12']
    const human = await runCli([...args, '--out', join(dir, 'text1')], { cwd: dir })
    assert.equal(human.code, 0, human.stderr)
    const text = readFileSync(join(dir, 'text1', 'text.txt'), 'utf8')
    assert.ok(text.length > 0)
    assert.ok(human.stdout.startsWith(`${text}\n\ncommitment  0x`), human.stdout)
    const json = await runCli([...args, '--out', join(dir, 'text2'), '--json'], { cwd: dir })
    assert.equal(JSON.parse(json.stdout).text, text)
  })

  it('imo request without funds names the account to fund (exit 8)', async () => {
    const deployed = await runCli(
      [
        'deploy',
        '--model-hash',
        `0x${'ab'.repeat(32)}`,
        '--name',
        'T',
        '--symbol',
        'T',
        '--supply',
        '10',
        '--rpc-url',
        anvil.rpcUrl,
      ],
      { cwd: dir, env: { IMO_PRIVATE_KEY: anvil.accounts[0]!.privateKey } },
    )
    assert.equal(deployed.code, 0, deployed.stderr)
    const result = await runCli(['request', 'a red spiral', '--yes', '--rpc-url', anvil.rpcUrl], {
      cwd: dir,
      env: { IMO_PRIVATE_KEY: POOR_KEY },
    })
    assert.equal(result.code, 8, result.stderr)
    assert.match(
      result.stderr,
      new RegExp(`^error: ${POOR} cannot pay the request fee of 0\\.001 ETH plus gas: it holds 0 ETH; nothing was sent$`, 'm'),
    )
  })

  it('imo deploy with too little names the cost of the whole deployment and sends nothing (exit 8)', async () => {
    const funder = createWalletClient({
      account: privateKeyToAccount(anvil.accounts[0]!.privateKey as Hex),
      chain: foundry,
      transport: http(anvil.rpcUrl),
    })
    await client(anvil.rpcUrl).waitForTransactionReceipt({
      hash: await funder.sendTransaction({ to: POOR, value: parseEther('0.006') }), // enough for the token's step alone
    })
    const args = ['deploy', '--model-hash', `0x${'cd'.repeat(32)}`, '--name', 'P', '--symbol', 'P', '--supply', '10']
    const result = await runCli([...args, '--deployment', join(dir, 'poor.json'), '--rpc-url', anvil.rpcUrl], {
      cwd: dir,
      env: { IMO_PRIVATE_KEY: POOR_KEY },
    })
    assert.equal(result.code, 8, result.stderr)
    const match =
      /^error: insufficient funds: 0x\w{40} holds 0\.006 ETH but the deployment needs up to ([\d.]+) ETH \(deploy ImoToken up to ([\d.]+) ETH, deploy AigcCollection up to ([\d.]+) ETH\); nothing was sent$/m.exec(
        result.stderr,
      )
    assert.ok(match, result.stderr)
    assert.equal(parseEther(match[1]!), parseEther(match[2]!) + parseEther(match[3]!))
    assert.equal(await client(anvil.rpcUrl).getTransactionCount({ address: POOR }), 0, 'nothing sent')
  })

  it('help and README cite no document outside the repository', () => {
    const folder = join(repoRoot, 'test', 'snapshots', 'help')
    const texts = [
      ['README.md', readFileSync(join(repoRoot, 'README.md'), 'utf8')],
      ...readdirSync(folder).map((name) => [name, readFileSync(join(folder, name), 'utf8')]),
    ]
    for (const [name, text] of texts) {
      assert.doesNotMatch(text!, /\bDESIGN\b|STYLE\.md/, name)
      for (const [doc] of text!.matchAll(/[\w./-]+\.md\b/g))
        assert.ok(existsSync(join(repoRoot, doc)), `${name} cites ${doc}, which is not in the repository`)
    }
  })
})
