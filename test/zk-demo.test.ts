/**
 * `imo demo --model zk`: the bundled zkcppn mints one image whose PLONK proof the chain checks, and
 * the demo's verification of the token passes (re-execution, the proof offline and on chain). The
 * keys come from an insecure ptau in imo's zk cache; the test cache (shared with the other zk tests)
 * gets the test ptau, byte-identical to the one the demo would write, so it is made once per machine.
 */
import assert from 'node:assert/strict'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { runCli } from './helpers/runCli.js'
import { TEST_ZK_CACHE, testPtau } from './helpers/zkFixtures.js'

describe('imo demo --model zk', () => {
  it('mints one zkcppn image with a proof the chain checks, and verifies the token', { timeout: 1_200_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'imo-zk-demo-'))
    try {
      const cached = join(TEST_ZK_CACHE, 'insecure-v1-15.ptau')
      if (!existsSync(cached)) {
        mkdirSync(TEST_ZK_CACHE, { recursive: true })
        copyFileSync(await testPtau(15), cached)
      }
      const result = await runCli(['demo', '--model', 'zk', '--json'], {
        cwd: dir,
        env: { IMO_ZK_CACHE: TEST_ZK_CACHE },
        timeoutMs: 1_200_000,
      })
      assert.equal(result.code, 0, result.stderr)
      const report = JSON.parse(result.stdout)
      assert.equal(report.ok, true)
      assert.equal(report.mints.length, 1)
      assert.equal(report.request, undefined)
      const image = readFileSync(report.mints[0].image)
      assert.equal(image.subarray(0, 2).toString('latin1'), 'BM')
      assert.equal(image.length, 1334)
      const checks = report.verification.checks as { name: string; status: string }[]
      for (const name of ['proof format', 're-execution', 'on-chain verify', 'zk proof'])
        assert.equal(checks.find((c) => c.name === name)?.status, 'pass', name)
      assert.ok(existsSync(join(report.mints[0].record, '..', 'proof.json')))
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
