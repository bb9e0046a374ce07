/**
 * The paid-request side of the collection, driven from TypeScript on a real anvil: `imo deploy
 * --request-fee/--request-timeout` sets and records the terms; a request is read back with the typed
 * reader (src/requests/readRequest.ts), fulfilled with a proof made by src/mint (signAttestation +
 * encodeProof: an AigcFulfilment of that request, bound to its recipient), and a copied proof cannot
 * serve another recipient nor mint the prompt directly (issue 21 item 4: the fee cannot be evaded).
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { type Address, createTestClient, createWalletClient, decodeFunctionData, type Hex, http, keccak256, toHex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { foundry } from 'viem/chains'
import { aigcCollectionAbi } from '../contracts-abi/index.js'
import { type Anvil, startAnvil } from '../src/devnet/startAnvil.js'
import { encodeProof } from '../src/mint/encodeProof.js'
import { signAttestation } from '../src/mint/signAttestation.js'
import { decodeRequestedLogs, readRequest, readRequestTerms } from '../src/requests/readRequest.js'
import { client, deployArgs, MODEL_HASH, tempWorkdir } from './helpers/deployFixture.js'
import { cleanEnv, imoBin, runCli } from './helpers/runCli.js'

describe('paid requests (contract API from TypeScript)', () => {
  let anvil: Anvil
  let work: ReturnType<typeof tempWorkdir>
  let collection: Address
  before(async () => {
    anvil = await startAnvil()
    work = tempWorkdir()
  })
  after(async () => {
    await anvil.stop()
    work.cleanup()
  })
  /** A call by the collection's owner (anvil's first account); returns the transaction hash. */
  const ownerWrite = (functionName: string, args: readonly unknown[], fees: Record<string, bigint> = {}) =>
    createWalletClient({
      account: privateKeyToAccount(anvil.accounts[0]!.privateKey as Hex),
      chain: foundry,
      transport: http(anvil.rpcUrl),
    }).writeContract({ address: collection, abi: aigcCollectionAbi, functionName, args, ...fees } as never)
  /** Resolves once `address` has sent a transaction (automine off: it waits in the pool). */
  const untilBroadcast = async (address: Address) => {
    const deadline = Date.now() + 60_000
    while ((await client(anvil.rpcUrl).getTransactionCount({ address, blockTag: 'pending' })) === 0) {
      if (Date.now() > deadline) throw new Error(`${address} never broadcast`)
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }

  it('deploy records --request-fee and --request-timeout and sets them on the collection', async () => {
    const result = await runCli(deployArgs(anvil.rpcUrl, ['--request-fee', '0.002', '--request-timeout', '120', '--json']), {
      cwd: work.dir,
      env: { IMO_PRIVATE_KEY: anvil.accounts[0]!.privateKey },
    })
    assert.equal(result.code, 0, result.stderr)
    const file = JSON.parse(readFileSync(join(work.dir, '.imo', 'deployments', '31337', 'default.json'), 'utf8'))
    assert.equal(file.parameters.requestFeeWei, '2000000000000000')
    assert.equal(file.parameters.requestTimeout, 120)
    collection = file.aigcCollection.address
    const terms = await readRequestTerms({ publicClient: client(anvil.rpcUrl), rpcUrl: anvil.rpcUrl } as never, collection)
    assert.deepEqual(terms, { feeWei: 2_000_000_000_000_000n, timeoutSeconds: 120, requestCount: 0n, openEscrowWei: 0n })
  })

  it('refuses a request timeout outside 1 s .. a year (exit 2, nothing sent)', async () => {
    const result = await runCli(deployArgs(anvil.rpcUrl, ['--request-timeout', '0', '--deployment', 'x.json']), {
      cwd: work.dir,
      env: { IMO_PRIVATE_KEY: anvil.accounts[0]!.privateKey },
    })
    assert.equal(result.code, 2, result.stderr)
    assert.match(result.stderr, /--request-timeout must be at least 1/)
  })

  it('reads a request and its log, fulfils it with a recipient-bound proof, refuses a copied one', async () => {
    const publicClient = client(anvil.rpcUrl)
    const ctx = { publicClient, rpcUrl: anvil.rpcUrl } as never
    const operator = privateKeyToAccount(anvil.accounts[0]!.privateKey as Hex)
    const user = privateKeyToAccount(anvil.accounts[1]!.privateKey as Hex)
    const thief = privateKeyToAccount(anvil.accounts[2]!.privateKey as Hex)
    const wallet = (account: typeof user) => createWalletClient({ account, chain: foundry, transport: http(anvil.rpcUrl) })
    const prompt = toHex('a red spiral')
    const send = async (account: typeof user, functionName: string, args: unknown[], value?: bigint) => {
      const hash = await wallet(account).writeContract({
        address: collection,
        abi: aigcCollectionAbi,
        functionName,
        args,
        ...(value ? { value } : {}),
      } as never)
      return publicClient.waitForTransactionReceipt({ hash })
    }
    const fee = 2_000_000_000_000_000n
    const receipt = await send(user, 'request', [prompt, user.address], fee)
    await send(thief, 'request', [prompt, thief.address], fee)
    const [event] = await decodeRequestedLogs(receipt.logs)
    assert.equal(event!.requestId, 1n)
    assert.equal(event!.requester, user.address)
    assert.equal(event!.prompt, prompt)
    assert.equal(event!.fee, fee)
    const request = await readRequest(ctx, collection, 1n)
    assert.equal(request.status, 'open')
    assert.equal(request.prompt, prompt)
    assert.equal(request.tokenId, BigInt(keccak256(prompt)))
    assert.equal(request.expiresAt, event!.expiresAt)
    assert.equal(request.callbackGasLimit, 100_000)
    assert.equal(request.refundable, undefined, 'refundability is read only when asked')
    assert.equal((await readRequest(ctx, collection, 9n)).status, 'none')
    // Open, not expired, its prompt not minted: not refundable yet (read with the request, one eth_call).
    assert.equal((await readRequest(ctx, collection, 2n, { refundable: true })).refundable, false)

    const aigcData = keccak256(toHex('artifact'))
    const commitment = keccak256(toHex('commitment'))
    const signature = await signAttestation(operator, {
      kind: 'fulfilment',
      requestId: 1n,
      chainId: 31337,
      collection,
      modelHash: MODEL_HASH,
      promptHash: keccak256(prompt),
      aigcDataHash: keccak256(aigcData),
      commitment,
      to: user.address,
    })
    const proof = encodeProof({ kind: 'fulfilment', requestId: 1n, commitment, to: user.address, signature })
    // The thief's own request (same prompt) names the thief: the user's proof cannot serve it; it is bound
    // to request 1 before it is bound to the user (test/forge checks the recipient binding on its own).
    await assert.rejects(
      publicClient.simulateContract({
        account: thief,
        address: collection,
        abi: aigcCollectionAbi,
        functionName: 'fulfill',
        args: [2n, aigcData, proof, ''],
      }),
      /ProofRequestMismatch/,
    )
    // The requester copies the pending fulfilment's proof into a direct mint: refused, it is not a mint proof.
    await assert.rejects(
      publicClient.simulateContract({
        account: user,
        address: collection,
        abi: aigcCollectionAbi,
        functionName: 'mint',
        args: [user.address, prompt, aigcData, '', proof],
        value: await publicClient.readContract({ address: collection, abi: aigcCollectionAbi, functionName: 'mintFee' }),
      }),
      /ProofKindMismatch/,
    )
    await send(operator, 'fulfill', [1n, aigcData, proof, 'ipfs://x'])
    assert.equal((await readRequest(ctx, collection, 1n)).status, 'fulfilled')
    const owner = await publicClient.readContract({
      address: collection,
      abi: aigcCollectionAbi,
      functionName: 'ownerOf',
      args: [request.tokenId],
    })
    assert.equal(owner, user.address)
    // The thief's request can now be refunded at once (its prompt is minted).
    assert.equal((await readRequest(ctx, collection, 2n, { refundable: true })).refundable, true)
    await send(thief, 'refund', [2n])
    assert.equal((await readRequest(ctx, collection, 2n)).status, 'refunded')
    assert.equal((await readRequestTerms(ctx, collection)).openEscrowWei, 0n)
  })

  // Issue 21 item 14: the owner front-runs a pending `imo request` with setRequestTimeout(a year). The
  // request carries the timeout imo read (requestWithTerms), so it reverts on chain instead of locking
  // its fee for a year; imo says the terms changed (exit 4) and no fee was taken.
  it('imo request carries the timeout it read: a front-running timeout change makes it revert, no fee taken', async () => {
    const publicClient = client(anvil.rpcUrl)
    const testClient = createTestClient({ chain: foundry, mode: 'anvil', transport: http(anvil.rpcUrl) })
    const requester = privateKeyToAccount(anvil.accounts[3]!.privateKey as Hex)
    const escrowBefore = (await readRequestTerms({ publicClient, rpcUrl: anvil.rpcUrl } as never, collection)).openEscrowWei
    const balanceBefore = await publicClient.getBalance({ address: requester.address })
    await testClient.setAutomine(false)
    try {
      const cli = runCli(['request', 'a front-run prompt', '--rpc-url', anvil.rpcUrl], {
        cwd: work.dir,
        env: { IMO_PRIVATE_KEY: anvil.accounts[3]!.privateKey },
      })
      // The request is in the pool: the owner's change, with a higher tip, goes before it in the block.
      await untilBroadcast(requester.address)
      const block = await publicClient.getBlock()
      await ownerWrite('setRequestTimeout', [365n * 24n * 3600n], {
        maxPriorityFeePerGas: 50_000_000_000n,
        maxFeePerGas: 2n * (block.baseFeePerGas ?? 0n) + 50_000_000_000n,
      })
      await testClient.mine({ blocks: 1 })
      const result = await cli
      assert.equal(result.code, 4, result.stderr)
      assert.match(
        result.stderr,
        /^error: the collection's request terms changed after imo read them \(its timeout is now 31536000 s, the request accepted at most 120 s\): the request was refused and no fee was taken$/m,
      )
    } finally {
      await testClient.setAutomine(true)
    }
    const ctx = { publicClient, rpcUrl: anvil.rpcUrl } as never
    assert.equal((await readRequestTerms(ctx, collection)).openEscrowWei, escrowBefore, 'nothing escrowed')
    const gasOnly = balanceBefore - (await publicClient.getBalance({ address: requester.address }))
    assert.ok(gasOnly < 2_000_000_000_000_000n, `the requester lost only gas, not the 0.002 fee (${gasOnly} wei)`)
    await publicClient.waitForTransactionReceipt({ hash: await ownerWrite('setRequestTimeout', [120n]) })
  })

  // A request killed after its broadcast is resumed by the re-run with the very transaction it signed,
  // even though the terms it would read now differ (the owner shortened the timeout meanwhile).
  it('a re-run of an interrupted imo request resumes the signed transaction, whatever the terms read now', async () => {
    const publicClient = client(anvil.rpcUrl)
    const testClient = createTestClient({ chain: foundry, mode: 'anvil', transport: http(anvil.rpcUrl) })
    const requester = privateKeyToAccount(anvil.accounts[5]!.privateKey as Hex)
    const args = ['request', 'an interrupted prompt', '--rpc-url', anvil.rpcUrl, '--json']
    const env = cleanEnv({ IMO_PRIVATE_KEY: anvil.accounts[5]!.privateKey })
    await testClient.setAutomine(false)
    try {
      const first = spawn(process.execPath, [imoBin, ...args], { cwd: work.dir, env, stdio: 'ignore' })
      await untilBroadcast(requester.address)
      first.kill('SIGKILL')
      await new Promise((resolve) => first.once('exit', resolve))
      await ownerWrite('setRequestTimeout', [60n])
      await testClient.mine({ blocks: 1 })
    } finally {
      await testClient.setAutomine(true)
    }
    const rerun = await runCli(args, { cwd: work.dir, env: { IMO_PRIVATE_KEY: anvil.accounts[5]!.privateKey } })
    assert.equal(rerun.code, 0, rerun.stderr)
    const out = JSON.parse(rerun.stdout)
    assert.equal(out.status, 'resumed')
    assert.equal(await publicClient.getTransactionCount({ address: requester.address }), 1, 'one request transaction')
    const sent = await publicClient.getTransaction({ hash: out.hash })
    const { args: callArgs } = decodeFunctionData({ abi: aigcCollectionAbi, data: sent.input })
    assert.equal(callArgs?.[3], 120n, 'bound to the timeout read before the interruption')
    const ctx = { publicClient, rpcUrl: anvil.rpcUrl } as never
    const request = await readRequest(ctx, collection, BigInt(out.requestId))
    assert.equal(request.status, 'open')
    await publicClient.waitForTransactionReceipt({ hash: await ownerWrite('setRequestTimeout', [120n]) })
  })

  // With no attester left nobody could fulfil: an open request is refundable at once, a new one refused.
  it('imo refund pays back at once when no attester is left; imo request refuses then (exit 3, nothing sent)', async () => {
    const publicClient = client(anvil.rpcUrl)
    const as = (index: number, args: string[]) =>
      runCli([...args, '--rpc-url', anvil.rpcUrl], { cwd: work.dir, env: { IMO_PRIVATE_KEY: anvil.accounts[index]!.privateKey } })
    const requested = await as(4, ['request', 'nobody will serve this', '--json'])
    assert.equal(requested.code, 0, requested.stderr)
    const id = JSON.parse(requested.stdout).requestId as string
    const setAttester = async (functionName: 'addAttester' | 'removeAttester') =>
      publicClient.waitForTransactionReceipt({ hash: await ownerWrite(functionName, [anvil.accounts[0]!.address]) })
    await setAttester('removeAttester')
    try {
      const refunded = await as(4, ['refund', id])
      assert.equal(refunded.code, 0, refunded.stderr)
      assert.match(
        refunded.stdout,
        new RegExp(`^Refunded request ${id} \\(no attester left to fulfil it\\): 0\\.002 ETH back`, 'm'),
      )
      const refused = await as(4, ['request', 'another prompt'])
      assert.equal(refused.code, 3, refused.stderr)
      assert.match(refused.stderr, /NoAttesters\(\); nothing was sent/)
    } finally {
      await setAttester('addAttester')
    }
  })
})
