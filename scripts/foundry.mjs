#!/usr/bin/env node
// Runs a Foundry tool (forge, cast, anvil) from its npm platform package and passes its exit code on.
// The npm wrappers (`@foundry-rs/forge`'s bin.mjs, 1.7.1) spawn the binary and always exit 0, so
// `forge test` and `forge fmt --check` through them could never fail a CI run. Usage:
//   node scripts/foundry.mjs forge test
//   node scripts/foundry.mjs forge fmt --check
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'

const [tool, ...args] = process.argv.slice(2)
if (!['forge', 'cast', 'anvil'].includes(tool)) {
  process.stderr.write('usage: node scripts/foundry.mjs forge|cast|anvil [ARGS...]\n')
  process.exit(2)
}

const require = createRequire(import.meta.url)
const arch = process.arch === 'x64' ? 'amd64' : process.arch
const platformPackage = `@foundry-rs/${tool}-${process.platform}-${arch}`
const exe = process.platform === 'win32' ? `${tool}.exe` : tool
let binary
try {
  // The platform package is an optional dependency of the wrapper package: resolve it from there.
  const wrapper = createRequire(require.resolve(`@foundry-rs/${tool}/package.json`))
  binary = join(dirname(wrapper.resolve(`${platformPackage}/package.json`)), 'bin', exe)
} catch {
  binary = undefined
}
if (!binary || !existsSync(binary)) {
  process.stderr.write(`${tool} is not installed for ${process.platform}-${arch}: run \`npm ci\` (package ${platformPackage})\n`)
  process.exit(1)
}

const result = spawnSync(binary, args, { stdio: 'inherit' })
if (result.error) {
  process.stderr.write(`could not run ${binary}: ${result.error.message}\n`)
  process.exit(1)
}
// A tool killed by a signal fails too (128 + signal number, as a shell reports it).
if (result.signal) process.exit(128 + ((await import('node:os')).constants.signals[result.signal] ?? 0))
process.exit(result.status ?? 1)
