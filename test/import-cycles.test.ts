// The import-cycle check of `npm test` (scripts/check-import-cycles.mjs, issue 25) must be able to
// fail: scratch folders with a cycle through a type-only import, through an import(), and through a
// re-export make it exit 1 naming the chain; a folder without one, and the project's src/, pass.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { after, describe, it } from 'node:test'
import { repoRoot } from './helpers/runCli.js'

const scratch = mkdtempSync(join(tmpdir(), 'imo-cycles-'))
after(() => rmSync(scratch, { recursive: true, force: true }))

function check(files: Record<string, string>, name: string) {
  const folder = join(scratch, name)
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(folder, path)), { recursive: true })
    writeFileSync(join(folder, path), text)
  }
  const run = spawnSync(process.execPath, ['scripts/check-import-cycles.mjs', folder], { cwd: repoRoot, encoding: 'utf8' })
  return { status: run.status, stdout: run.stdout, stderr: run.stderr, folder }
}

describe('scripts/check-import-cycles.mjs', () => {
  it('fails on a cycle closed by a type-only import, naming it', () => {
    const run = check(
      {
        'a/run.ts':
          "import { write } from '../b/write.js'\nexport interface Result { n: number }\nexport const run = () => write({ n: 1 })\n",
        'b/write.ts': "import type { Result } from '../a/run.js'\nexport const write = (r: Result) => r.n\n",
        'c/free.ts': "import { run } from '../a/run.js'\nexport const free = run\n",
      },
      'type-only',
    )
    assert.equal(run.status, 1, run.stdout + run.stderr)
    const line = run.stderr.split('\n').find((l) => l.startsWith('import cycle:'))
    assert.ok(line, run.stderr)
    assert.match(line, /a\/run\.ts -> .*b\/write\.ts -> .*a\/run\.ts$/)
    assert.doesNotMatch(run.stderr, /c\/free\.ts/)
    assert.match(run.stderr, /^1 import cycle in /m)
  })

  it('fails on a cycle through import() and through export ... from', () => {
    const dynamic = check(
      { 'x.ts': "export const x = () => import('./y.js')\n", 'y.ts': "import { x } from './x.js'\nexport const y = x\n" },
      'dynamic',
    )
    assert.equal(dynamic.status, 1, dynamic.stderr)
    const reexport = check(
      {
        'p.ts': "export { q } from './q.js'\nexport const p = 1\n",
        'q.ts': "import { r } from './r.js'\nexport const q = r\n",
        'r.ts': "import { p } from './p.js'\nexport const r = p\n",
      },
      'reexport',
    )
    assert.equal(reexport.status, 1, reexport.stderr)
    assert.match(reexport.stderr, /p\.ts -> .*q\.ts -> .*r\.ts -> .*p\.ts/)
  })

  it('passes a folder without a cycle, and the project src/', () => {
    const acyclic = check(
      {
        'a.ts': "import { b } from './b.js'\nexport const a = b\n",
        'b.ts': "import { readFileSync } from 'node:fs'\nexport const b = readFileSync\n",
      },
      'acyclic',
    )
    assert.equal(acyclic.status, 0, acyclic.stderr)
    assert.match(acyclic.stdout, /^no import cycle among 2 modules in /)
    const project = spawnSync(process.execPath, ['scripts/check-import-cycles.mjs'], { cwd: repoRoot, encoding: 'utf8' })
    assert.equal(project.status, 0, project.stderr)
  })
})
