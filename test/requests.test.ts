/**
 * The paid-request side of the collection, driven from TypeScript on a real anvil: `imo deploy
 * --request-fee/--request-timeout` sets and records the terms; a request is read back with the typed
 * reader (src/requests/readRequest.ts), fulfilled with a proof made by src/mint (signAttestation +
 * encodeProof: an AigcFulfilment of that request, bound to its recipient), and a copied proof cannot
 * serve another recipient nor mint the prompt directly (issue 21 item 4: the fee cannot be evaded).
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { type Address, createWalletClient, type Hex, http, keccak256, toHex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { foundry } from 'viem/chains'
import { aigcCollectionAbi } from '../contracts-abi/index.js'
import { type Anvil, startAnvil } from '../src/devnet/startAnvil.js'
import { encodeProof } from '../src/mint/encodeProof.js'
import { signAttestation } from '../src/mint/signAttestation.js'
import { decodeRequestedLogs, readRequest, readRequestTerms } from '../src/requests/readRequest.js'
import { client, deployArgs, MODEL_HASH, tempWorkdir } from './helpers/deployFixture.js'
import { runCli } from './helpers/runCli.js'

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
})
