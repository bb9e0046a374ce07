import { startRedis } from '../../test/helpers/startRedis.ts'
import { openInferenceQueue } from '../../src/queue/openInferenceQueue.ts'
import { hashModel } from '../../src/model/hashModel.ts'
import { spawn } from 'node:child_process'
const redis = await startRedis()
const { modelHash } = await hashModel('models/cppn')
const w = spawn(process.execPath, ['bin/imo.mjs', 'worker', '--queue', redis.url, '--model', 'models/cppn'], { stdio: ['ignore', 'inherit', 'inherit'] })
const q = await openInferenceQueue({ url: redis.url, modelHash: modelHash as `0x${string}`, onLog: console.error })
let n = 0
const t0 = Date.now()
const done = new Promise<void>((res) => q.collect((o) => { console.log(o.kind, o.kind === 'completed' ? [o.requestId, o.latencyMs, o.output.artifactBytes.length] : o); if (++n === 5) res() }))
for (let i = 0; i < 5; i++) console.log(await q.enqueueInference({ requestId: i, prompt: `p ${i}`, recipient: '0x' + '11'.repeat(20) }))
console.log(await q.enqueueInference({ requestId: 1, prompt: `p 1`, recipient: '0x' + '11'.repeat(20) }))
await done
console.log('ms', Date.now() - t0, await q.counts())
w.kill('SIGTERM')
await new Promise((r) => w.once('exit', (c) => { console.log('worker exit', c); r(null) }))
await q.close(); await redis.close()
