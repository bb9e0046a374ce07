/**
 * Progress of a long proof: on a terminal, `imo infer --prove` names the prover's round and the
 * seconds so far while it proves, then the proving time and the process's peak memory (a real
 * pseudo-terminal, test/helpers/ptyDrive.py; a 4 x 4 zk model over the insecure test ptau).
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { buildZkCppnFloat } from '../scripts/build-zk-model.js'
import { compileZkModel } from '../src/zk/compileZkModel.js'
import { cleanEnv, imoBin } from './helpers/runCli.js'
import { TEST_ZK_CACHE, testPtau } from './helpers/zkFixtures.js'

const driver = fileURLToPath(new URL('./helpers/ptyDrive.py', import.meta.url))
let dir: string
let model: string
let ptau: string

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'imo-zk-progress-'))
  ptau = await testPtau(12)
  const floatPath = join(dir, 'tiny.onnx')
  writeFileSync(floatPath, buildZkCppnFloat({ size: 4, units: 2 }))
  model = (await compileZkModel({ input: floatPath, outDir: join(dir, 'tiny') })).modelFolder!
})
after(() => rmSync(dir, { recursive: true, force: true }))

describe('imo infer --prove on a terminal', () => {
  it("shows the prover's round and seconds, then the proving time and peak memory", () => {
    const cmd = [process.execPath, imoBin, 'infer', '--model', model, '--prompt', 'a red spiral', '--out', join(dir, 'p')]
    const run = spawnSync('python3', [driver], {
      input: JSON.stringify({
        cmd: [...cmd, '--prove', '--to', '0x70997970C51812dc3A010C7d01b50e0d17dc79C8', '--ptau', ptau, '--insecure-ptau'],
        cwd: dir,
        env: cleanEnv({ NO_COLOR: undefined, CI: undefined, TERM: 'xterm-256color', IMO_ZK_CACHE: TEST_ZK_CACHE }),
        size: [24, 120],
        timeout: 280,
      }),
      encoding: 'utf8',
      timeout: 290_000,
    })
    assert.equal(run.status, 0, run.stderr)
    const result = JSON.parse(run.stdout) as { code: number; terminal: string; cursor_hidden: boolean; error?: string }
    assert.equal(result.error, undefined)
    assert.equal(result.code, 0, result.terminal.slice(-2000))
    assert.equal(result.cursor_hidden, true, 'an animated spinner')
    assert.match(result.terminal, /proving: round [1-5] of 5 \(\d+ s\)/)
    assert.match(result.terminal, /proved in \d+\.\d s/)
    assert.match(result.terminal, /peak memory \d+(\.\d)? MiB/)
  })
})
