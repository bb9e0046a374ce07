/**
 * The npm package as a user gets it: `npm pack` of this checkout, installed into an empty folder
 * outside it with the npm registry as the only network, then into another with no network at all
 * (`npm install --offline`, from the npm cache the first install filled), and `npx imo demo` there.
 * onnxruntime-node's install script fetches CUDA libraries from NuGet on Linux x64 unless told to
 * skip; a package cannot tell it that for its users (npm reads that setting only from the installing
 * project, the user or the environment), so the install below does what the README's "Install"
 * section says (ONNXRUNTIME_NODE_INSTALL=skip), and any host other than the registry fails at once
 * (GLOBAL_AGENT_HTTPS_PROXY, which the script honours, points at a closed port). A control shows the
 * script does try NuGet, and fails, without the setting. About two minutes, most of it the two
 * `npm install`s from the npm cache.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { promisify } from 'node:util'
import { repoRoot } from './helpers/runCli.js'

const run = promisify(execFile)
const scratch = mkdtempSync(join(tmpdir(), 'imo-package-'))
const app = join(scratch, 'app')
const offlineApp = join(scratch, 'offline-app')
let tarball: string
let installMs = 0

/** `npm install <tarball>` into a new folder holding an empty project, as the README's Install section says. */
async function install(folder: string, flags: string[]): Promise<void> {
  mkdirSync(folder)
  writeFileSync(join(folder, 'package.json'), JSON.stringify({ name: 'app', private: true }))
  const started = Date.now()
  await run('npm', ['install', ...flags, '--no-audit', '--no-fund', tarball], {
    cwd: folder,
    env: userEnv({ ONNXRUNTIME_NODE_INSTALL: 'skip' }),
    maxBuffer: 1 << 26,
  })
  installMs = Date.now() - started
}
let deadProxy: string

/**
 * The environment of a user's shell: none of the variables an outer `npm test` sets (npm_config_*
 * would carry this checkout's .npmrc), no ONNXRUNTIME_* or IMO_* setting, and a dead proxy for every
 * host the install scripts would reach besides the registry.
 */
function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(process.env)) if (!/^(npm_|ONNXRUNTIME_|IMO_|INIT_CWD$)/i.test(key)) env[key] = value
  return { ...env, CI: 'true', NO_COLOR: '1', GLOBAL_AGENT_HTTP_PROXY: deadProxy, GLOBAL_AGENT_HTTPS_PROXY: deadProxy, ...extra }
}

before(async () => {
  // A port nothing listens on: connections to it are refused at once.
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  deadProxy = `http://127.0.0.1:${(server.address() as { port: number }).port}`
  await new Promise((resolve) => server.close(resolve))
  const packed = await run('npm', ['pack', '--pack-destination', scratch], { cwd: repoRoot, env: userEnv(), maxBuffer: 1 << 26 })
  tarball = join(scratch, packed.stdout.trim().split('\n').at(-1)!)
})
after(() => rmSync(scratch, { recursive: true, force: true }))

describe('the npm package', { timeout: 900_000 }, () => {
  it('holds the built CLI with its code cache, LICENSE, README and docs/formats.md; no source maps, sources or tests', async () => {
    const files = (await run('tar', ['tzf', tarball], { maxBuffer: 1 << 24 })).stdout.trim().split('\n')
    for (const file of ['LICENSE', 'README.md', 'docs/formats.md', 'bin/imo.cjs', 'dist/cli.cjs', 'dist/cli.cjs.cache'])
      assert.ok(files.includes(`package/${file}`), `${file} is in the package`)
    assert.ok(files.includes('package/models/cppn/model.onnx'), 'the bundled model is in the package')
    assert.deepEqual(
      files.filter((file) => /\.map$|^package\/(src|test|bench|scripts)\//.test(file)),
      [],
    )
  })

  it('installs into an empty folder with the npm registry as the only network', async (t) => {
    await install(app, ['--prefer-offline'])
    t.diagnostic(`npm install of the tarball: ${(installMs / 1000).toFixed(0)} s`)
  })

  it('installs into another empty folder with no network at all (npm install --offline), and `npx imo demo` runs there', async () => {
    // The install above filled the npm cache, as any earlier install on a machine does.
    await install(offlineApp, ['--offline'])
    const demo = await run('npx', ['imo', 'demo', '--json'], { cwd: offlineApp, env: userEnv({ npm_config_offline: 'true' }) })
    const report = JSON.parse(demo.stdout) as { ok: boolean; reportFile: string }
    assert.equal(report.ok, true)
    assert.ok(existsSync(report.reportFile))
  })

  it('control: without the setting, onnxruntime-node install script tries NuGet and fails', async (t) => {
    const script = join(app, 'node_modules', 'onnxruntime-node', 'script', 'install.js')
    if (`${process.platform}/${process.arch}` !== 'linux/x64') return t.skip('the script downloads only on Linux x64')
    assert.ok(existsSync(script) && readdirSync(join(app, 'node_modules', 'onnxruntime-node')).length > 0)
    await assert.rejects(
      run(process.execPath, [script], { cwd: join(app, 'node_modules', 'onnxruntime-node'), env: userEnv(), timeout: 120_000 }),
      (error: { code?: number; stderr?: string }) => {
        assert.notEqual(error.code, 0)
        assert.match(String(error.stderr), /ECONNREFUSED/)
        return true
      },
    )
  })
})
