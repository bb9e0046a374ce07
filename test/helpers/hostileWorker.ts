/**
 * What the hostile-worker test files share: spawning test/helpers/maliciousWorker.ts (a real BullMQ
 * worker that forges one way), the check that a token carries serve's own honest inference, and the
 * run of several forgeries one after another against one `imo serve --queue`, each of which must be
 * refused with its one-line reason while serve stays healthy and fulfils the request itself.
 */
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before } from 'node:test'
import { type Address, keccak256, parseAbiItem, toHex } from 'viem'
import { runInference } from '../../src/inference/runInference.js'
import { repoRoot } from './runCli.js'
import {
  allFulfilledOnce,
  CPPN,
  client,
  type Deployed,
  deploy,
  imo,
  request,
  root,
  said,
  signedBy,
  until,
} from './serveQueueChain.js'
import { type SpawnedImo, spawnImo, stopImo } from './spawnImo.js'
import { startRedis, type TestRedis } from './startRedis.js'

/**
 * The calling describe's set-up (its before/after hooks): a Redis, a cppn deployment, and the folder
 * the hostile workers and serve share as --artifact-dir; the fields are set once `before` ran.
 */
export function useHostileSetup(): { redis: TestRedis; d: Deployed; shared: string } {
  const setup = {} as { redis: TestRedis; d: Deployed; shared: string }
  before(async () => {
    setup.redis = await startRedis()
    setup.d = await deploy(CPPN, 7)
    setup.shared = join(root, 'hostile', 'artifacts')
    mkdirSync(setup.shared, { recursive: true })
  })
  after(() => setup.redis.close())
  return setup
}

const MALICIOUS = join(repoRoot, 'test', 'helpers', 'maliciousWorker.ts')

/** Starts a hostile worker forging in `mode` (see maliciousWorker.ts). */
export const spawnHostile = (url: string, mode: string, artifactDir: string) =>
  spawnImo([url, CPPN, mode, artifactDir], { script: MALICIOUS, nodeFlags: ['--import', 'tsx'], readyEvent: 'ready' })

const aigcDataEvent = parseAbiItem(
  'event AigcData(uint256 indexed tokenId, bytes indexed prompt, bytes indexed aigcData, bytes proof)',
)

/** The token of `prompt` carries serve's own inference of it: keccak256 of the honest aigcData. */
export async function assertHonestToken(collection: Address, prompt: string): Promise<void> {
  const honest = await runInference({ modelPath: CPPN, prompt })
  const tokenId = BigInt(keccak256(toHex(new TextEncoder().encode(prompt))))
  const logs = await client.getLogs({ address: collection, event: aigcDataEvent, args: { tokenId }, fromBlock: 0n })
  assert.equal(logs.length, 1, `one AigcData event for "${prompt}"`)
  assert.equal(logs[0]!.topics[3], keccak256(honest.aigcData), `the token of "${prompt}" holds the honest artifact's digest`)
}

export const metricsOf = async (port: number) => (await fetch(`http://127.0.0.1:${port}/metrics`)).text()

/**
 * One hostile worker per mode, one request each: serve refuses the result with the mode's one-line
 * reason, /healthz answers, the request is fulfilled with serve's own inference, and serve keeps its
 * files in the request's own folder. Returns the workers' names and the request ids.
 */
export async function refusesEach(
  dispatcher: SpawnedImo,
  d: Deployed,
  queue: { url: string; artifactDir: string; metricsPort: number },
  reasons: Record<string, RegExp>,
): Promise<{ names: string[]; ids: bigint[] }> {
  const names: string[] = []
  const ids: bigint[] = []
  for (const [mode, reason] of Object.entries(reasons)) {
    const evil = spawnHostile(queue.url, mode, queue.artifactDir)
    try {
      await evil.ready
      const prompt = `forged by ${mode}`
      const [id] = await request(d.collection, [prompt])
      const rejected = await until(
        `the refusal of ${mode}`,
        () => dispatcher.lines.find((l) => l.event === 'rejected' && l.requestId === String(id)),
        90_000,
      )
      const message = String(rejected.message)
      const head = `request ${id}: the result of worker evil-${mode}:${evil.pid} was refused, nothing signed: `
      const tail = '; serve runs the request itself'
      assert.ok(message.startsWith(head) && message.endsWith(tail), message)
      assert.match(message.slice(head.length, -tail.length), reason, `${mode}: ${message}`)
      assert.ok(!message.includes('\n'))
      // serve keeps serving: the health check answers at once, its loop is not blocked (a blocked loop
      // reads no head: "rpc: no head read for N s"), and the request is fulfilled with serve's own run.
      // (Only "no worker is connected" may show: the worker count is read every 5 s, and the previous
      // mode's worker has just gone.)
      const health = await fetch(`http://127.0.0.1:${queue.metricsPort}/healthz`, { signal: AbortSignal.timeout(3000) })
      const problems = (await health.text()).split('\n').filter((line) => line && line !== 'ok')
      assert.deepEqual(
        problems.filter((line) => line !== 'queue: no worker is connected'),
        [],
        `${mode}: /healthz`,
      )
      await until(`${mode}: request ${id} fulfilled`, () => allFulfilledOnce(d.collection, [id!]), 90_000)
      await assertHonestToken(d.collection, prompt)
      assert.ok(
        evil.lines.some((l) => l.event === 'job'),
        `${mode}: the hostile worker took the job`,
      )
      // serve's files are its own, in the request's folder: the record serve built, the artifact it decoded.
      const folder = readdirSync(join(d.dir, 'out')).filter((name) => new RegExp(`^[0-9a-f]{12}-request-${id}$`).test(name))
      assert.equal(folder.length, 1, `one folder for request ${id}`)
      const record = JSON.parse(readFileSync(join(d.dir, 'out', folder[0]!, 'record.json'), 'utf8'))
      assert.equal(record.prompt, prompt)
      assert.equal(record.artifact.file, 'image.png')
      assert.equal(record.commitment, (await runInference({ modelPath: CPPN, prompt })).record.commitment)
      assert.ok(existsSync(join(d.dir, 'out', folder[0]!, 'mint.json')))
      names.push(`evil-${mode}:${evil.pid}`)
      ids.push(id!)
    } finally {
      await stopImo(evil)
    }
  }
  assert.equal(said(dispatcher, 'failed').length, 0, said(dispatcher, 'failed').join('; '))
  return { names, ids }
}

/** The workers are quarantined in serve's log, `imo requests --queue`, `imo status --queue` and /metrics. */
export async function assertQuarantined(
  dispatcher: SpawnedImo,
  d: Deployed,
  queue: { url: string; metricsPort: number },
  names: string[],
): Promise<void> {
  for (const name of names)
    assert.ok(
      dispatcher.lines.some((l) => l.event === 'quarantined' && l.worker === name),
      `serve quarantined ${name}: ${said(dispatcher, 'quarantined').join('; ')}`,
    )
  const workers = (stdout: string) =>
    (JSON.parse(stdout).queue.quarantined as Array<{ worker: string }>).map((q) => q.worker).sort()
  const listed = await imo(d.dir, ['requests', '--queue', queue.url, '--json'], signedBy(d))
  assert.equal(listed.code, 0, listed.stderr)
  assert.deepEqual(workers(listed.stdout), [...names].sort())
  const status = await imo(d.dir, ['status', '--queue', queue.url, '--json'], signedBy(d))
  assert.equal(status.code, 0, status.stderr)
  assert.deepEqual(workers(status.stdout), [...names].sort())
  const metrics = await metricsOf(queue.metricsPort)
  for (const name of names) assert.match(metrics, new RegExp(`^imo_serve_worker_quarantined\\{worker="${name}"\\} 1$`, 'm'))
  assert.match(metrics, new RegExp(`^imo_serve_worker_results_refused_total\\{reason="forged"\\} ${names.length}$`, 'm'))
}
