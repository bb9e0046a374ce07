/**
 * A JSON-RPC proxy in front of a node, for tests of an RPC that behaves unlike anvil: `answer` may
 * reply to a call itself (a result or an error, as a node would, optionally with an HTTP status and
 * headers, e.g. a provider's 429 with Retry-After), every other call is forwarded as it came; `drop`
 * closes the connection of a call without an answer (the client's `fetch failed`); `forwarded` hears
 * each forwarded call once the node has answered it, before the client does.
 * A batch is forwarded whole. (For transport faults, see tcpProxy.ts.)
 * @example
 * const proxy = await startRpcProxy(anvil.rpcUrl, {
 *   answer: (call) => (call.method === 'web3_clientVersion' ? { result: 'HardhatNetwork/2.22.17' } : undefined),
 * })
 * runCli([...args, '--rpc-url', proxy.url])
 * await proxy.close()
 */
import { createServer, request as httpRequest } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface JsonRpcCall {
  id: number
  method: string
  params?: unknown[]
}

export type JsonRpcAnswer = ({ result: unknown } | { error: { code: number; message: string } }) & {
  /** HTTP status of the answer (200 when absent). */
  status?: number
  headers?: Record<string, string>
}

export interface RpcProxy {
  /** http://127.0.0.1:<port> */
  url: string
  close(): Promise<void>
}

export function startRpcProxy(
  target: string,
  options: {
    answer?(call: JsonRpcCall): JsonRpcAnswer | undefined
    /** Another call to forward in its place (an older block for 'latest', say). */
    rewrite?(call: JsonRpcCall): JsonRpcCall | undefined
    drop?(call: JsonRpcCall): boolean
    forwarded?(call: JsonRpcCall): void
  },
): Promise<RpcProxy> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk) => chunks.push(chunk))
    req.on('end', () => {
      let body = Buffer.concat(chunks)
      const parsed = JSON.parse(body.toString('utf8')) as JsonRpcCall | JsonRpcCall[]
      let call = Array.isArray(parsed) ? undefined : parsed
      if (call && options.drop?.(call)) {
        req.socket.destroy()
        return
      }
      const rewritten = call && options.rewrite?.(call)
      if (rewritten) {
        call = rewritten
        body = Buffer.from(JSON.stringify(rewritten))
      }
      const answer = call && options.answer?.(call)
      if (call && answer) {
        const { status = 200, headers = {}, ...body } = answer
        res
          .writeHead(status, { 'content-type': 'application/json', ...headers })
          .end(JSON.stringify({ jsonrpc: '2.0', id: call.id, ...body }))
        return
      }
      const upstream = httpRequest(target, { method: 'POST', headers: { 'content-type': 'application/json' } }, (up) => {
        const out: Buffer[] = []
        up.on('data', (chunk) => out.push(chunk))
        up.on('end', () => {
          if (call) options.forwarded?.(call)
          res.writeHead(up.statusCode ?? 502, { 'content-type': 'application/json' }).end(Buffer.concat(out))
        })
      })
      upstream.on('error', () => res.writeHead(502).end())
      upstream.end(body)
    })
  })
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        close: () => new Promise<void>((done) => server.close(() => done())),
      }),
    ),
  )
}
