/**
 * httpTransport against a real anvil and against a loopback HTTP server that answers as misbehaving
 * nodes do: the errors are viem's own (what src/chain/toImoError.ts reads), credentials become basic
 * auth, 307 redirects are followed, a hung node times out.
 */
import assert from 'node:assert/strict'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { createPublicClient, HttpRequestError, RpcRequestError, TimeoutError } from 'viem'
import { type Anvil, startAnvil } from '../devnet/startAnvil.js'
import { httpTransport } from './httpTransport.js'
import { toImoError } from './toImoError.js'

let anvil: Anvil
let server: Server
let base: string
let answer: (request: IncomingMessage, body: string, response: ServerResponse) => void

before(async () => {
  anvil = await startAnvil()
  server = createServer((request, response) => {
    let body = ''
    request.on('data', (chunk) => {
      body += chunk
    })
    request.on('end', () => answer(request, body, response))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
after(async () => {
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
  await anvil.stop()
})

const client = (url: string, timeout = 5_000) => createPublicClient({ transport: httpTransport(url, { timeout, retryCount: 0 }) })
const rejection = async (promise: Promise<unknown>) => {
  try {
    await promise
  } catch (error) {
    return error as Error
  }
  assert.fail('expected a rejection')
}
/** The first error of a viem error's cause chain that is an instance of `type`. */
const find = <T>(error: unknown, type: new (...args: never[]) => T): T | undefined => {
  for (let at = error; at; at = (at as { cause?: unknown }).cause) if (at instanceof type) return at
  return undefined
}

describe('httpTransport', () => {
  it('talks to anvil: chain id, a block, a call that reverts with its data', async () => {
    const anvilClient = client(anvil.rpcUrl)
    assert.equal(await anvilClient.getChainId(), 31337)
    assert.equal((await anvilClient.getBlock()).number, 0n)
    // Deployless call of init code that reverts with 4 bytes of data: viem sees the revert data.
    const error = await rejection(anvilClient.call({ data: '0x63deadbeef60005260046000fd' }))
    assert.match(String((error as { details?: string }).details ?? error.message), /revert/i)
  })

  it('a JSON-RPC error is an RpcRequestError with its code', async () => {
    answer = (_request, body, response) => {
      const { id } = JSON.parse(body)
      response.setHeader('content-type', 'application/json')
      response.end(JSON.stringify({ jsonrpc: '2.0', id, error: { code: -32005, message: 'limit exceeded' } }))
    }
    const error = await rejection(client(base).getChainId())
    assert.equal(find(error, RpcRequestError)?.code, -32005)
  })

  it('HTTP 503 with a text body: HttpRequestError with the status, "cannot reach" for imo', async () => {
    answer = (_request, _body, response) => {
      response.statusCode = 503
      response.end('upstream down')
    }
    const error = await rejection(client(base).getChainId())
    assert.equal(find(error, HttpRequestError)?.status, 503)
    assert.match(toImoError(error, { rpcUrl: base }).message, /cannot reach the RPC at .*\(HTTP 503\)/)
  })

  it('200 with a body that is not JSON: HttpRequestError', async () => {
    answer = (_request, _body, response) => response.end('<html>hello</html>')
    const error = await rejection(client(base).getChainId())
    assert.ok(find(error, HttpRequestError), String(error))
  })

  it('credentials in the URL are sent as basic auth; a 307 redirect is followed', async () => {
    let seen: string | undefined
    answer = (request, body, response) => {
      if (request.url === '/old') {
        response.writeHead(307, { location: '/new' })
        return response.end()
      }
      seen = request.headers.authorization
      const { id } = JSON.parse(body)
      response.end(JSON.stringify({ jsonrpc: '2.0', id, result: '0x2a' }))
    }
    const url = `http://user:p%40ss@${base.slice('http://'.length)}/old`
    assert.equal(await client(url).getChainId(), 42)
    assert.equal(seen, `Basic ${Buffer.from('user:p@ss').toString('base64')}`)
  })

  it('a node that never answers: TimeoutError after the timeout', async () => {
    answer = () => {}
    const started = Date.now()
    const error = await rejection(client(base, 300).getChainId())
    assert.ok(find(error, TimeoutError), String(error))
    assert.ok(Date.now() - started < 3_000)
  })

  it('nothing listening: HttpRequestError, which imo reports as unreachable', async () => {
    const closed = createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`
    await new Promise((resolve) => closed.close(resolve))
    const error = await rejection(client(url).getChainId())
    assert.ok(find(error, HttpRequestError), String(error))
    assert.match(toImoError(error, { rpcUrl: url }).message, /cannot reach the RPC/)
  })
})
