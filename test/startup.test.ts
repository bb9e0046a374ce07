/**
 * The start-up path (scripts/build.mjs, bin/imo.cjs): the CLI runs from the code cache its build
 * wrote, and never from a cache of other code (V8 itself only compares the source's length).
 */
import assert from 'node:assert/strict'
import { execFileSync, spawnSync } from 'node:child_process'
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { repoRoot } from './helpers/runCli.js'

const scratch = mkdtempSync(join(tmpdir(), 'imo-startup-'))
after(() => rmSync(scratch, { recursive: true, force: true }))

/** How bin/imo.cjs (at `root`) loads a bundle of dist/ (default cli.cjs): 'used', 'rejected' or 'none'. */
function cacheUse(root: string, bundle = 'cli.cjs'): string {
  // The lazy part's files read the start-up part's modules: dist/cli.cjs first.
  const code = `const bin = require('./bin/imo.cjs'); bin.loadCli(true); process.stdout.write(bin.loadBundle(${JSON.stringify(bundle)}, true).cache)`
  return execFileSync(process.execPath, ['-e', code], { cwd: root, encoding: 'utf8' })
}

describe('start-up', () => {
  it('the built CLI, its vendor bundle (viem) and its lazy part run from their code caches', () => {
    assert.equal(cacheUse(repoRoot), 'used')
    const vendor = readdirSync(join(repoRoot, 'dist')).filter((file) => /^vendor-\w+\.cjs$/.test(file))
    assert.ok(vendor.length > 0, 'a vendor bundle is built')
    for (const file of vendor) assert.equal(cacheUse(repoRoot, file), 'used', file)
    // The lazy part too (a command's action loads these): an entry and a shared chunk.
    const chunk = readdirSync(join(repoRoot, 'dist')).find((file) => /^chunk-\w+\.cjs$/.test(file))
    for (const file of ['lazy-chain-connect.cjs', chunk!]) assert.equal(cacheUse(repoRoot, file), 'used', file)
  })

  it('a cache beside a rebuilt dist/cli.cjs of the same length is not used: the new code runs', () => {
    // A copy of the installed layout, then a "rebuild" that changes one character of the code.
    for (const folder of ['bin', 'dist']) mkdirSync(join(scratch, folder))
    copyFileSync(join(repoRoot, 'bin', 'imo.cjs'), join(scratch, 'bin', 'imo.cjs'))
    copyFileSync(join(repoRoot, 'dist', 'cli.cjs.cache'), join(scratch, 'dist', 'cli.cjs.cache'))
    symlinkSync(join(repoRoot, 'node_modules'), join(scratch, 'node_modules'))
    const built = readFileSync(join(repoRoot, 'dist', 'cli.cjs'), 'latin1')
    const version = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).version as string
    const other = version.replace(/\d$/, (digit) => String((Number(digit) + 1) % 10))
    assert.ok(built.includes(`version: "${version}"`), 'the bundle inlines the version')
    const code = built.slice(built.indexOf('\n') + 1).replace(`version: "${version}"`, `version: "${other}"`)
    writeFileSync(join(scratch, 'dist', 'cli.cjs'), `// imo-build ${'0'.repeat(32)}\n${code}`, 'latin1')
    assert.equal(cacheUse(scratch), 'none')
    const printed = execFileSync(process.execPath, [join(scratch, 'bin', 'imo.cjs'), '--version'], { encoding: 'utf8' })
    assert.equal(printed.trim(), other)
  })

  it("a command's lazy part loads as CommonJS: Node's ES module loader never starts", () => {
    // Node 20's ES module loader costs ~5 ms to start and ~0.3 ms a module; scripts/build.mjs turns the
    // lazy part into CommonJS. `imo hash` loads lazy modules in its action.
    const hook = join(scratch, 'report-esm.cjs')
    writeFileSync(
      hook,
      "process.on('exit', () => { if (process.moduleLoadList.includes('NativeModule internal/modules/esm/translators')) process.stderr.write('ES modules loaded\\n') })\n",
    )
    const imo = join(repoRoot, 'bin', 'imo.cjs')
    const run = spawnSync(process.execPath, ['-r', hook, imo, 'hash', join(repoRoot, 'models', 'cppn'), '--json'], {
      encoding: 'utf8',
    })
    assert.equal(run.status, 0, run.stderr)
    JSON.parse(run.stdout) // one JSON document: the command ran to its end
    assert.doesNotMatch(run.stderr, /ES modules loaded/)
  })
})
