// The function-length check of `npm test` (issue 25: no function over 150 lines in src/chain) must be
// able to fail: it runs on scratch folders holding a function just over and just at the limit.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { repoRoot } from './helpers/runCli.js'

const script = join(repoRoot, 'scripts', 'check-function-length.mjs')
const dir = mkdtempSync(join(tmpdir(), 'imo-length-'))

/** A function whose text spans exactly `lines` lines. */
function functionOf(name: string, lines: number, arrow = false): string {
  const body = Array.from({ length: lines - 2 }, (_, i) => `  const v${i} = ${i}`).join('\n')
  return arrow ? `export const ${name} = () => {\n${body}\n}\n` : `export function ${name}() {\n${body}\n}\n`
}

function check(folder: string, ...extra: string[]) {
  return spawnSync(process.execPath, [script, ...extra, folder], { cwd: dir, encoding: 'utf8' })
}

describe('scripts/check-function-length.mjs', () => {
  after(() => rmSync(dir, { recursive: true, force: true }))

  it('fails on a function of 151 lines (also an arrow function, named after its variable), passes at 150', () => {
    const long = join(dir, 'long')
    mkdirSync(join(long, 'nested'), { recursive: true })
    writeFileSync(join(long, 'ok.ts'), functionOf('atTheLimit', 150))
    writeFileSync(join(long, 'nested', 'big.ts'), functionOf('tooLong', 151, true))
    writeFileSync(join(long, 'skipped.test.ts'), functionOf('aLongTest', 400)) // tests are left out
    const failed = check(long)
    assert.equal(failed.status, 1, failed.stderr)
    assert.match(failed.stderr, /long\/nested\/big\.ts:1 tooLong is 151 lines/)
    assert.doesNotMatch(failed.stderr, /atTheLimit|aLongTest/)
    const ok = join(dir, 'ok')
    mkdirSync(ok)
    writeFileSync(join(ok, 'ok.ts'), functionOf('atTheLimit', 150))
    const passed = check(ok)
    assert.equal(passed.status, 0, passed.stderr)
    assert.match(passed.stdout, /1 functions in .*ok, none over 150 lines/)
    assert.equal(check(ok, '--max', '149').status, 1)
  })

  it('a method inside a class counts too; no folder is a usage error (exit 2)', () => {
    const methods = join(dir, 'methods')
    mkdirSync(methods)
    const body = Array.from({ length: 160 }, (_, i) => `    this.x = ${i}`).join('\n')
    writeFileSync(join(methods, 'c.ts'), `export class C {\n  x = 0\n  grow(): void {\n${body}\n  }\n}\n`)
    const r = check(methods)
    assert.equal(r.status, 1)
    assert.match(r.stderr, /c\.ts:3 grow is 162 lines/)
    assert.equal(spawnSync(process.execPath, [script], { encoding: 'utf8' }).status, 2)
  })
})
