// The seam an off-chain front end (the paid HTTP API, issue 23) plugs into: serve's infer and check
// stages, its signer, journal and metrics, used without the chain-following stages (real anvil, real
// onnxruntime, serve started in this process).
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { keccak256 } from 'viem'
import { connectChain } from '../src/chain/connect.js'
import { readDeploymentFile } from '../src/deployment/deploymentFile.js'
import type { ServeEvent } from '../src/serve/serveEvent.js'
import { startServe } from '../src/serve/startServe.js'
import { startChain } from './helpers/serveChain.js'

describe('serve stages for an off-chain front end', () => {
  it("infer and check run without follow / decide / fulfil; the signer, journal and /metrics are the node's", async () => {
    const chain = await startChain()
    process.chdir(chain.dir) // the journal and serve's state live under ./.imo
    const dev = chain.anvil.accounts[0]!
    const ctx = await connectChain({ rpcUrl: chain.anvil.rpcUrl, privateKey: dev.privateKey }, { signer: true })
    const deployment = readDeploymentFile(join(chain.dir, '.imo', 'deployments', '31337', 'default.json'))!
    const events: ServeEvent[] = []
    const serving = await startServe(ctx, deployment, { log: (event) => events.push(event), pollMs: 50, metricsPort: 0 })
    try {
      const { stages } = serving
      assert.ok(stages, 'a following serve hands out its stages')
      const prompt = 'an off-chain call'
      const bytes = new TextEncoder().encode(prompt)
      // An id of its own range: no on-chain request has it.
      const { item, inferenceMs } = await stages.source.infer({ requestId: 10n ** 30n, prompt, promptHash: keccak256(bytes) })
      assert.ok(inferenceMs > 0)
      assert.equal(item.record.modelHash.toLowerCase(), deployment.modelHash.toLowerCase())
      assert.ok(existsSync(join(item.outDir!, 'record.json')), 'the inference files are written as for a chain request')
      assert.equal(stages.check(item, bytes), undefined)
      assert.match(stages.check(item, new TextEncoder().encode('another prompt')) ?? '', /prompt bytes are not the request's/)
      assert.match(stages.check({ ...item, aigcData: new Uint8Array(32) }, bytes) ?? '', /aigcData is not the artifact's digest/)
      // The node's signer (an attester of the collection) and its journal, in this process.
      assert.equal(stages.ctx.account?.address, dev.address)
      assert.equal(stages.ctx.journal, ctx.journal)
      // One registry: what the front end counts shows on serve's own /metrics.
      stages.metrics.inferenceSeconds.observe(inferenceMs / 1000)
      const scraped = await (await fetch(`http://127.0.0.1:${serving.metricsPort}/metrics`)).text()
      assert.match(scraped, /^imo_serve_inference_seconds_count 1$/m)
      // Nothing went through the chain stages: no request seen, nothing fulfilled.
      assert.equal(
        events.filter((event) => event.event === 'seen' || event.event === 'fulfilled').length,
        0,
        JSON.stringify(events),
      )
    } finally {
      const summary = await serving.stop()
      assert.equal(summary.fulfilled, 0)
    }
  })
})
