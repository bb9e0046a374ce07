import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { ImoError } from '../errors.js'

/** A Foundry tool shipped on npm as `@foundry-rs/<tool>` with a platform package beside it. */
export type FoundryTool = 'anvil' | 'cast' | 'forge'

/**
 * Path of a Foundry tool's native binary, from the platform package its npm wrapper installs.
 * Never the wrapper itself: `@foundry-rs/*`'s bin.mjs (1.7.1) always exits 0 and adds a Node start-up,
 * so an exit code or a timing taken through it would be wrong (scripts/foundry.mjs, the npm scripts'
 * runner, resolves the same way).
 * @param tool - 'anvil', 'cast' or 'forge'.
 * @returns the absolute path of the executable.
 * @throws ImoError when the platform package is not installed.
 * @example
 * import { foundryBinary } from './foundryBinary.js'
 * foundryBinary('cast') // '/…/node_modules/@foundry-rs/cast-linux-amd64/bin/cast'
 */
export function foundryBinary(tool: FoundryTool): string {
  const require = createRequire(import.meta.url)
  const arch = process.arch === 'x64' ? 'amd64' : process.arch
  const platformPackage = `@foundry-rs/${tool}-${process.platform}-${arch}`
  const exe = process.platform === 'win32' ? `${tool}.exe` : tool
  const resolvers = [() => createRequire(require.resolve(`@foundry-rs/${tool}/package.json`)), () => require]
  for (const resolver of resolvers) {
    try {
      const candidate = join(dirname(resolver().resolve(`${platformPackage}/package.json`)), 'bin', exe)
      if (existsSync(candidate)) return candidate
    } catch {
      // the wrapper is absent or does not see the platform package: try the next resolver
    }
  }
  throw new ImoError(`${tool} is not installed: run \`npm install\` in the imo folder (package ${platformPackage})`)
}
