import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { checkRpcUrl } from './checkRpcUrl.js'

let server: Server
let base: string

before(async () => {
  // Answers like a web server that is not an RPC node at that path (or refuses the key).
  server = createServer((req, res) => {
    const status = req.url === '/v3/badkey' ? 401 : 404
    res.writeHead(status, { 'content-type': 'text/plain' }).end('nope')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
after(() => new Promise<void>((resolve) => server.close(() => resolve())))

describe('checkRpcUrl', () => {
  it('names an HTTP status as the answer it is (404 was reported as "no answer")', async () => {
    await assert.rejects(checkRpcUrl(`${base}/wrong-path`), {
      name: 'RpcError',
      message: `${base} answered HTTP 404 (not found: check the path of the URL)`,
    })
    await assert.rejects(checkRpcUrl(`${base}/v3/badkey`), {
      message: `${base} answered HTTP 401 (refused: check the API key in the URL)`,
    })
  })

  it('says when nothing listens', async () => {
    const closed = createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const port = (closed.address() as AddressInfo).port
    await new Promise<void>((resolve) => closed.close(() => resolve()))
    await assert.rejects(checkRpcUrl(`http://127.0.0.1:${port}`), {
      message: `cannot reach http://127.0.0.1:${port}: connection refused`,
    })
  })
})
