import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { getAddress, toFunctionSelector } from 'viem'
import { aigcCollectionAbi, imoTokenAbi } from '../contracts-abi/index.js'
import { type Anvil, startAnvil } from '../src/devnet/startAnvil.js'
import { client, deployArgs, tempWorkdir } from './helpers/deployFixture.js'
import { runCli } from './helpers/runCli.js'

const xor = (signatures: string[]) =>
  `0x${signatures
    .map((s) => Number.parseInt(toFunctionSelector(s).slice(2), 16))
    .reduce((a, b) => (a ^ b) >>> 0, 0)
    .toString(16)
    .padStart(8, '0')}` as const

const PATTERN_FEES = ['--percent-claimable', '80', '--royalty-bps', '750', '--mint-fee', '0.01']

describe('imo deploy', () => {
  let anvil: Anvil
  let work: ReturnType<typeof tempWorkdir>
  const key = () => anvil.accounts[1].privateKey
  const deployer = () => getAddress(anvil.accounts[1].address)
  /** The "Pattern" deployment from the model folder; a re-run with the same arguments must find it. */
  const patternArgs = (extra: string[]) => [
    'deploy',
    '--model',
    work.model,
    '--name',
    'Pattern',
    '--symbol',
    'PAT',
    '--supply',
    '1000000',
    '--rpc-url',
    anvil.rpcUrl,
    ...extra,
  ]
  before(async () => {
    anvil = await startAnvil()
    work = tempWorkdir()
  })
  after(async () => {
    await anvil.stop()
    work.cleanup()
  })

  it('dry run simulates both contracts and sends nothing', async () => {
    const result = await runCli(patternArgs(['--dry-run', '--json']), { cwd: work.dir, env: { IMO_PRIVATE_KEY: key() } })
    assert.equal(result.code, 0, result.stderr)
    const data = JSON.parse(result.stdout)
    assert.equal(data.status, 'dry-run')
    assert.equal(data.steps.length, 2)
    for (const step of data.steps) assert.ok(BigInt(step.gas) > 1_000_000n)
    assert.equal(await client(anvil.rpcUrl).getTransactionCount({ address: deployer() }), 0)
    assert.equal(existsSync(join(work.dir, '.imo', 'deployments')), false)
    assert.equal(existsSync(join(work.dir, '.imo', 'journal')), false)
  })

  it('deploys the token and collection, readable by an independent client', async () => {
    const result = await runCli(patternArgs([...PATTERN_FEES, '--json']), { cwd: work.dir, env: { IMO_PRIVATE_KEY: key() } })
    assert.equal(result.code, 0, result.stderr)
    const data = JSON.parse(result.stdout)
    assert.equal(data.status, 'deployed')
    const file = JSON.parse(readFileSync(join(work.dir, '.imo', 'deployments', '31337', 'default.json'), 'utf8'))
    assert.deepEqual(file.imoToken, data.imoToken)
    assert.equal(file.deployer, deployer())
    assert.equal(file.model.given, work.model)
    assert.match(file.modelHash, /^0x[0-9a-f]{64}$/)
    const c = client(anvil.rpcUrl)
    const token = file.imoToken.address
    const collection = file.aigcCollection.address
    const read = (
      address: `0x${string}`,
      abi: typeof imoTokenAbi | typeof aigcCollectionAbi,
      functionName: string,
      args: unknown[] = [],
    ) => c.readContract({ address, abi, functionName, args } as never) as Promise<unknown>
    assert.equal(await read(token, imoTokenAbi, 'name'), 'Pattern')
    assert.equal(await read(token, imoTokenAbi, 'symbol'), 'PAT')
    assert.equal(await read(token, imoTokenAbi, 'totalSupply'), 1_000_000n * 10n ** 18n)
    assert.equal(await read(token, imoTokenAbi, 'balanceOf', [deployer()]), 1_000_000n * 10n ** 18n)
    assert.equal(await read(token, imoTokenAbi, 'modelHash'), file.modelHash)
    assert.equal(await read(token, imoTokenAbi, 'percentClaimable'), 80)
    assert.equal(await read(collection, aigcCollectionAbi, 'name'), 'Pattern AIGC')
    assert.equal(await read(collection, aigcCollectionAbi, 'modelHash'), file.modelHash)
    assert.equal(getAddress((await read(collection, aigcCollectionAbi, 'imoToken')) as string), getAddress(token))
    assert.equal(await read(collection, aigcCollectionAbi, 'isAttester', [deployer()]), true)
    assert.equal(await read(collection, aigcCollectionAbi, 'mintFee'), 10n ** 16n)
    const [receiver, royalty] = (await read(collection, aigcCollectionAbi, 'royaltyInfo', [1n, 10_000n])) as [string, bigint]
    assert.equal(getAddress(receiver), getAddress(token))
    assert.equal(royalty, 750n)
    const erc7641 = xor([
      'claimableRevenue(address,uint256)',
      'claim(uint256)',
      'snapshot()',
      'redeemableOnBurn(uint256)',
      'burn(uint256)',
    ])
    assert.equal(await read(token, imoTokenAbi, 'supportsInterface', [erc7641]), true)
    assert.equal(await read(collection, aigcCollectionAbi, 'supportsInterface', ['0x702c55a6']), true) // ERC-7007
    assert.equal(await read(collection, aigcCollectionAbi, 'supportsInterface', ['0x2a55205a']), true) // ERC-2981
    assert.equal(await read(collection, aigcCollectionAbi, 'supportsInterface', ['0x80ac58cd']), true) // ERC-721
    assert.equal(await read(collection, aigcCollectionAbi, 'supportsInterface', ['0xffffffff']), false)
    assert.equal(await c.getTransactionCount({ address: deployer() }), 2)
  })

  it('a second run with the same parameters reports the existing deployment (exit 0, nothing sent)', async () => {
    const result = await runCli(patternArgs(PATTERN_FEES), { cwd: work.dir, env: { IMO_PRIVATE_KEY: key() } })
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stdout, /^Already deployed on Anvil \(local\) \(chain 31337\)/)
    assert.equal(await client(anvil.rpcUrl).getTransactionCount({ address: deployer() }), 2)
  })

  it('different parameters in the same deployment file are refused (exit 2); --deployment FILE records another', async () => {
    const refused = await runCli(deployArgs(anvil.rpcUrl), { cwd: work.dir, env: { IMO_PRIVATE_KEY: key() } })
    assert.equal(refused.code, 2)
    assert.match(refused.stderr, /error: another deployment is already recorded in .*default\.json\n/)
    const second = await runCli(deployArgs(anvil.rpcUrl, ['--deployment', 'second.json', '--json']), {
      cwd: work.dir,
      env: { IMO_PRIVATE_KEY: key() },
    })
    assert.equal(second.code, 0, second.stderr)
    const data = JSON.parse(second.stdout)
    assert.equal(data.deploymentFile, join(work.dir, 'second.json'))
    assert.equal(data.parameters.collectionSymbol, 'TMAI')
    assert.equal(await client(anvil.rpcUrl).getTransactionCount({ address: deployer() }), 4)
  })

  it('a malformed --recipient or --attester is exit 2 naming the flag, with nothing sent', async () => {
    const before = await client(anvil.rpcUrl).getTransactionCount({ address: deployer() })
    const recipient = await runCli(deployArgs(anvil.rpcUrl, ['--recipient', '0x1234']), {
      cwd: work.dir,
      env: { IMO_PRIVATE_KEY: key() },
    })
    assert.equal(recipient.code, 2)
    assert.match(recipient.stderr, /^error: --recipient must be a 0x-prefixed 20-byte address, not "0x1234"\n$/)
    const attester = await runCli(deployArgs(anvil.rpcUrl, ['--attester', 'nobody', '--deployment', 'third.json']), {
      cwd: work.dir,
      env: { IMO_PRIVATE_KEY: key() },
    })
    assert.equal(attester.code, 2)
    assert.match(attester.stderr, /^error: --attester must be a 0x-prefixed 20-byte address, not "nobody"\n$/)
    assert.equal(await client(anvil.rpcUrl).getTransactionCount({ address: deployer() }), before)
  })

  it('asks for nothing without a terminal: a missing --name is exit 2 naming the flag', async () => {
    const result = await runCli(
      ['deploy', '--model-hash', `0x${'11'.repeat(32)}`, '--symbol', 'X', '--supply', '1', '--rpc-url', anvil.rpcUrl],
      {
        cwd: work.dir,
        env: { IMO_PRIVATE_KEY: key() },
      },
    )
    assert.equal(result.code, 2)
    assert.equal(result.stderr.trim(), 'error: missing token name: pass --name (no terminal to ask on)')
  })
})

describe('imo deploy checks flags, RPC and signer before hashing --model', () => {
  it('a bad flag, a dead RPC and a missing signer are reported before the model is read', async () => {
    const work = tempWorkdir()
    try {
      // A model folder that hashing refuses (a symlink): had it been hashed first, that would be the error.
      const { symlinkSync } = await import('node:fs')
      symlinkSync(join(work.model, 'weights.bin'), join(work.model, 'link.bin'))
      const base = ['deploy', '--model', work.model, '--name', 'T', '--symbol', 'T', '--supply', '1']
      const env = { IMO_PRIVATE_KEY: `0x${'11'.repeat(32)}` }
      const flag = await runCli([...base, '--percent-claimable', '150', '--rpc-url', 'http://127.0.0.1:9'], {
        cwd: work.dir,
        env,
      })
      assert.equal(flag.code, 2)
      assert.equal(flag.stderr.trim(), 'error: --percent-claimable must be at most 100')
      const rpc = await runCli([...base, '--rpc-url', 'http://127.0.0.1:9'], { cwd: work.dir, env })
      assert.equal(rpc.code, 6, rpc.stderr)
      const anvil = await startAnvil()
      try {
        const signer = await runCli([...base, '--rpc-url', anvil.rpcUrl], { cwd: work.dir })
        assert.equal(signer.code, 2)
        assert.match(signer.stderr, /^error: .*signer/m)
        const hashed = await runCli([...base, '--rpc-url', anvil.rpcUrl], { cwd: work.dir, env })
        assert.equal(hashed.code, 2)
        assert.match(hashed.stderr, /symlink/)
      } finally {
        await anvil.stop()
      }
    } finally {
      work.cleanup()
    }
  })
})
