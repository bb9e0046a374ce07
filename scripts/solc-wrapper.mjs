#!/usr/bin/env node
// A `solc` binary for forge, backed by solc-js (npm `solc`), so forge never downloads a compiler.
// Answers `--version` and `--standard-json` (input on stdin, output on stdout); reads imports from disk
// relative to the working directory (forge runs it in the project root and passes sources with content).
import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { resolve } from 'node:path'

const require = createRequire(import.meta.url)
const solc = require('solc')
const args = process.argv.slice(2)

if (args.includes('--version')) {
  // Same shape as native solc; forge parses the "Version:" line.
  process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${solc.version()}\n`)
  process.exit(0)
}
if (!args.includes('--standard-json')) {
  process.stderr.write('solc-wrapper: only --version and --standard-json are supported\n')
  process.exit(2)
}

const allowed = []
for (let i = 0; i < args.length; i++) {
  if ((args[i] === '--allow-paths' || args[i] === '--include-path' || args[i] === '--base-path') && args[i + 1]) {
    allowed.push(...args[i + 1].split(','))
  }
}
const findImports = (path) => {
  for (const base of ['', ...allowed]) {
    const file = resolve(base, path)
    if (existsSync(file)) return { contents: readFileSync(file, 'utf8') }
  }
  return { error: `File not found: ${path}` }
}
const input = readFileSync(0, 'utf8')
process.stdout.write(solc.compile(input, { import: findImports }))
