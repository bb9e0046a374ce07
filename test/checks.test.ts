// The Solidity checks themselves must be able to fail. Foundry's npm wrappers exit 0 whatever the tool
// finds, and for a while no contract test ran in CI while every run was green (issue 21 item 1). These
// tests run the package's own `test:forge` and `lint:contracts` scripts, the way `npm test` runs them,
// in a scratch copy of the project holding a deliberately failing test or a formatting slip.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'

const ROOT = join(fileURLToPath(import.meta.url), '..', '..')

const PASSING = `// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

contract PassingTest {
    function test_passes() public pure {
        require(1 + 1 == 2, "arithmetic");
    }
}
`
const FAILING = PASSING.replace('PassingTest', 'FailingTest')
  .replace('test_passes', 'test_fails')
  .replace('1 + 1 == 2', '1 + 1 == 3')
const SLIPPED = PASSING.replace('    function test_passes', 'function   test_passes')

/** A scratch project sharing this one's package.json scripts, foundry.toml, scripts/ and node_modules. */
function scratchProject(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'imo-checks-'))
  for (const name of ['package.json', 'foundry.toml']) cpSync(join(ROOT, name), join(dir, name))
  symlinkSync(join(ROOT, 'scripts'), join(dir, 'scripts'))
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'))
  mkdirSync(join(dir, 'contracts'))
  mkdirSync(join(dir, 'test', 'forge'), { recursive: true })
  for (const [path, text] of Object.entries(files)) writeFileSync(join(dir, path), text)
  scratch.push(dir)
  return dir
}
const scratch: string[] = []

function npmRun(dir: string, script: string) {
  const run = spawnSync('npm', ['run', '--silent', script], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
  })
  return { status: run.status, output: `${run.stdout}${run.stderr}` }
}

describe('the Solidity checks can fail', () => {
  after(() => {
    for (const dir of scratch) rmSync(dir, { recursive: true, force: true })
  })

  test('npm run test:forge exits 0 on a passing test and non-zero on a failing one', () => {
    const passing = npmRun(scratchProject({ 'test/forge/Passing.t.sol': PASSING }), 'test:forge')
    assert.equal(passing.status, 0, passing.output)
    assert.match(passing.output, /1 tests passed/)
    const failing = npmRun(scratchProject({ 'test/forge/Failing.t.sol': FAILING }), 'test:forge')
    assert.notEqual(failing.status, 0, failing.output)
    assert.match(failing.output, /\[FAIL: arithmetic\] test_fails/)
  })

  test('npm run test:forge exits non-zero when a test does not compile', () => {
    const broken = npmRun(scratchProject({ 'test/forge/Broken.t.sol': PASSING.replace('require(', 'require((') }), 'test:forge')
    assert.notEqual(broken.status, 0, broken.output)
    assert.match(broken.output, /Compiler run failed/)
  })

  test('npm run lint:contracts exits 0 on formatted sources and non-zero on a formatting slip', () => {
    const clean = npmRun(scratchProject({ 'contracts/Clean.sol': PASSING }), 'lint:contracts')
    assert.equal(clean.status, 0, clean.output)
    const slipped = npmRun(scratchProject({ 'contracts/Slipped.sol': SLIPPED }), 'lint:contracts')
    assert.notEqual(slipped.status, 0, slipped.output)
    assert.match(slipped.output, /Slipped\.sol/)
  })
})
