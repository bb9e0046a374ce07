import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  ContractFunctionExecutionError,
  HttpRequestError,
  InternalRpcError,
  LimitExceededRpcError,
  RpcRequestError,
  UnknownRpcError,
} from 'viem'
import { reportError } from '../cli.js'
import { ExitCode, RpcError, UsageError } from '../errors.js'
import { rpcFailureKind, toImoError } from './toImoError.js'
import { retryAfterMs } from './withBackoff.js'

const url = 'http://127.0.0.1:8545/v3/SECRETKEY'
const rpcError = (code: number, message: string, status?: number) =>
  new RpcRequestError({ body: {}, error: { code, message }, url, ...(status ? { status } : {}) })

describe('RPC failures: which are waited out, and their exit codes', () => {
  it('rate limits, server errors and an unreachable node are told apart from answers', () => {
    assert.equal(rpcFailureKind(new HttpRequestError({ url, status: 429 })), 'rate-limit')
    assert.equal(rpcFailureKind(new LimitExceededRpcError(rpcError(-32005, 'limit exceeded'))), 'rate-limit')
    assert.equal(rpcFailureKind(rpcError(-32005, 'daily request count exceeded, request rate limited', 429)), 'rate-limit')
    assert.equal(
      rpcFailureKind(new UnknownRpcError(new Error('Your app has exceeded its compute units per second capacity'))),
      'rate-limit',
    )
    // -32005 is also what some providers answer for a logs query that is too large: waiting does not help.
    assert.equal(rpcFailureKind(new LimitExceededRpcError(rpcError(-32005, 'query returned more than 10000 results'))), undefined)
    assert.equal(rpcFailureKind(new HttpRequestError({ url, status: 503 })), 'server')
    assert.equal(rpcFailureKind(new HttpRequestError({ url, cause: new TypeError('fetch failed') })), 'retry')
    assert.equal(rpcFailureKind(new InternalRpcError(rpcError(-32603, 'internal'))), 'retry')
    // A revert is an answer, whatever the contract's words.
    assert.equal(rpcFailureKind(rpcError(3, 'execution reverted: limit exceeded')), undefined)
    assert.equal(rpcFailureKind(new Error('something else')), undefined)
  })

  it('a rate limit that outlasted the waits is exit 6 naming it (the URL without its key), never exit 1', () => {
    const error = toImoError(new LimitExceededRpcError(rpcError(-32005, 'limit exceeded', 429)), { rpcUrl: url })
    assert.ok(error instanceof RpcError)
    assert.equal(
      error.shortMessage,
      "the RPC at http://127.0.0.1:8545 is rate-limiting imo's requests, and went on after imo waited",
    )
    assert.equal(toImoError(new HttpRequestError({ url, status: 502 }), { rpcUrl: url }).exitCode, ExitCode.Rpc)
  })

  it('a WebSocket upgrade refused with a 4xx is a usage error (exit 2); with a 5xx, exit 6', () => {
    const refused = toImoError(new UnknownRpcError(new Error('Unexpected server response: 404')), {
      rpcUrl: 'ws://127.0.0.1:9/x',
    })
    assert.ok(refused instanceof UsageError)
    assert.equal(
      refused.shortMessage,
      'the RPC URL ws://127.0.0.1:9 (path left out) is not a WebSocket endpoint: the server answered HTTP 404 to the upgrade',
    )
    const down = toImoError(new UnknownRpcError(new Error('Unexpected server response: 503')), { rpcUrl: 'ws://127.0.0.1:9/x' })
    assert.equal(down.exitCode, ExitCode.Rpc)
  })

  it('the CLI boundary: an RPC failure no command converted (a raw read) is exit 6 naming the URL, not an internal error', () => {
    const raw = new ContractFunctionExecutionError(new HttpRequestError({ url, cause: new TypeError('fetch failed') }), {
      abi: [],
      functionName: 'capFor',
    })
    const write = process.stderr.write
    let stderr = ''
    process.stderr.write = ((chunk: string) => {
      stderr += chunk
      return true
    }) as typeof process.stderr.write
    try {
      assert.equal(reportError(raw), ExitCode.Rpc)
    } finally {
      process.stderr.write = write
    }
    assert.match(stderr, /^error: cannot reach the RPC at http:\/\/127\.0\.0\.1:8545\n/)
    assert.doesNotMatch(stderr, /SECRETKEY|internal error/)
  })

  it('Retry-After in seconds or as an HTTP date', () => {
    const headers = (value: string) => new HttpRequestError({ url, status: 429, headers: new Headers({ 'Retry-After': value }) })
    assert.equal(retryAfterMs(headers('2')), 2000)
    const inFive = retryAfterMs(headers(new Date(Date.now() + 5000).toUTCString()))!
    assert.ok(inFive > 3000 && inFive <= 5000, String(inFive))
    assert.equal(retryAfterMs(new HttpRequestError({ url, status: 429 })), undefined)
    assert.equal(retryAfterMs(new LimitExceededRpcError(rpcError(-32005, 'limit exceeded'))), undefined)
  })
})
