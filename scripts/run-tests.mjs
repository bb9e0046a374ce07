// Runs every *.test.ts under src/ and test/ with node's built-in runner (Node 20 has no --test
// globs). Extra arguments are passed through, e.g. `npm run test:node -- --test-name-pattern=hash`.
import { spawnSync } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'

function find(folder) {
  let found = []
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    const path = join(folder, entry.name)
    if (entry.isDirectory() && entry.name !== 'node_modules' && !entry.name.startsWith('.')) found = found.concat(find(path))
    else if (entry.isFile() && entry.name.endsWith('.test.ts')) found.push(path)
  }
  return found
}

const filter = process.argv.slice(2).filter((arg) => !arg.startsWith('--'))
const passThrough = process.argv.slice(2).filter((arg) => arg.startsWith('--'))
let files = [...find('src'), ...find('test')].sort()
if (filter.length > 0) files = files.filter((file) => filter.some((word) => file.includes(word)))
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=300000', ...passThrough, ...files],
  { stdio: 'inherit' },
)
process.exit(result.status ?? 1)
