/**
 * A small TCP proxy (node:net) to put between a process under test and its RPC node, to make the
 * RPC misbehave for a while without touching the node itself:
 * - `pass`: bytes flow both ways;
 * - `refuse`: the listening socket is closed (connection refused) and open connections are reset;
 * - `drop`: connections are accepted and closed at once (socket hang up / fetch failed);
 * - `hang`: connections are accepted and nothing is forwarded (the client waits); they are reset
 *   when the mode changes.
 * @example
 * const proxy = await startTcpProxy(anvil.port)
 * spawn('imo', ['serve', '--rpc-url', proxy.url])
 * await proxy.setMode('refuse') // ... later
 * await proxy.setMode('pass')
 * await proxy.close()
 */
import { connect, createServer, type Server, type Socket } from 'node:net'

export type ProxyMode = 'pass' | 'refuse' | 'drop' | 'hang'

export interface TcpProxy {
  /** http://127.0.0.1:<port> */
  url: string
  port: number
  mode(): ProxyMode
  setMode(mode: ProxyMode): Promise<void>
  /** Connections accepted so far (any mode). */
  accepted(): number
  close(): Promise<void>
}

/**
 * Starts the proxy on a free 127.0.0.1 port, forwarding to 127.0.0.1:targetPort.
 * @param targetPort - the node's port.
 * @returns the proxy; its port stays the same across `refuse` and back.
 */
export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  let mode: ProxyMode = 'pass'
  let accepted = 0
  const open = new Set<Socket>()
  const track = (socket: Socket) => {
    open.add(socket)
    socket.on('close', () => open.delete(socket))
    socket.on('error', () => {})
  }
  const onConnection = (client: Socket) => {
    accepted++
    track(client)
    if (mode === 'drop') {
      client.destroy()
      return
    }
    if (mode === 'hang') return // read nothing, answer nothing
    const upstream = connect(targetPort, '127.0.0.1')
    track(upstream)
    client.pipe(upstream)
    upstream.pipe(client)
    client.on('close', () => upstream.destroy())
    upstream.on('close', () => client.destroy())
  }
  let server: Server | undefined
  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      const created = createServer(onConnection)
      created.once('error', reject)
      created.listen(port, '127.0.0.1', () => {
        server = created
        const address = created.address()
        resolve(typeof address === 'object' && address ? address.port : port)
      })
    })
  const stopListening = () =>
    new Promise<void>((resolve) => {
      const current = server
      server = undefined
      if (!current) return resolve()
      current.close(() => resolve())
    })
  const resetAll = () => {
    for (const socket of open) socket.resetAndDestroy?.() ?? socket.destroy()
    open.clear()
  }
  const port = await listen(0)
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    mode: () => mode,
    accepted: () => accepted,
    async setMode(next) {
      if (next === mode) return
      const previous = mode
      mode = next
      resetAll()
      if (next === 'refuse') await stopListening()
      else if (previous === 'refuse') await listen(port)
    },
    async close() {
      resetAll()
      await stopListening()
    },
  }
}
