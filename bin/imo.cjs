#!/usr/bin/env node
'use strict'
// The entry: runs dist/cli.cjs (written by scripts/build.mjs) through V8's code cache in
// dist/cli.cjs.cache, so a start-up does not compile again what the build's warm-up compiled; the
// same for dist/vendor-<hash>.cjs (viem), loaded when a command first needs it. The rest of dist/
// (what commands load in their actions) is plain CommonJS, loaded with require().
// Node 20 has no module.enableCompileCache (22.1+) and its ES module loader takes no cached data;
// vm.Script does. A cache from another Node version (V8 rejects it) or from another build (the id on
// the bundle's first line differs) is ignored: the CLI then compiles as it would without one.
// CommonJS, because an ES module entry costs Node about 5 ms more to start.

const { readFileSync, renameSync, writeFileSync } = require('node:fs')
const { createRequire } = require('node:module')
const { join } = require('node:path')
const { Script } = require('node:vm')

const DIST = join(__dirname, '..', 'dist')

/**
 * A CommonJS bundle of dist/ run through its code cache: its exports, its vm.Script, and whether the
 * cache was used ('used'), refused by V8 ('rejected': another Node version or flags) or absent or of
 * another build ('none'). `useCache` reads `<file>.cache` when its build id matches.
 */
function loadBundle(name, useCache, module = { exports: {} }) {
  const file = join(DIST, name)
  let source
  try {
    // Pure ASCII (the build checks), and latin1 is the cheapest decoding.
    source = readFileSync(file, 'latin1')
  } catch (error) {
    if (error.code !== 'ENOENT') throw error
    process.stderr.write('error: imo is not built yet; run `npm ci` (or `npm run build`) in its folder\n')
    process.exit(1)
  }
  const id = source.slice(0, source.indexOf('\n') + 1) // '// imo-build <hash of the code>\n'
  let cachedData
  if (useCache && id.startsWith('// imo-build '))
    try {
      const cache = readFileSync(`${file}.cache`)
      if (cache.latin1Slice(0, id.length) === id) cachedData = cache.subarray(id.length)
    } catch {
      // no cache: compile
    }
  // The wrapper shares the first line with the code, so line numbers in stack traces stay right.
  const script = new Script(`(function (exports, require, module, __filename, __dirname, __imoImport) {${source}\n})`, {
    filename: file,
    cachedData,
  })
  script.runInThisContext()(module.exports, requireFrom(file), module, file, DIST, importModule)
  const cache = cachedData ? (script.cachedDataRejected ? 'rejected' : 'used') : 'none'
  return { exports: module.exports, script, cache }
}

/**
 * The require() a bundle of dist/ gets: the lazy part's own files (`./chunk-….cjs`) through
 * requireLazy, anything else as Node's require() from that file would.
 */
function requireFrom(file) {
  const nodeRequire = createRequire(file)
  const lazyRequire = (specifier) =>
    specifier.startsWith('./') && specifier.endsWith('.cjs') ? requireLazy(specifier.slice(2)) : nodeRequire(specifier)
  lazyRequire.resolve = nodeRequire.resolve
  return lazyRequire
}

const lazyModules = new Map()
/**
 * A file of the lazy part (dist/lazy-….cjs, dist/chunk-….cjs: CommonJS) through its code cache, once
 * per process as require() does: registered before it runs, so a cycle between files sees the
 * exports as far as they are set.
 */
function requireLazy(name) {
  let module = lazyModules.get(name)
  if (!module) {
    module = { exports: {} }
    lazyModules.set(name, module)
    module.loaded = loadBundle(name, true, module)
  }
  return module.exports
}

/**
 * vm.Script code cannot use import() (Node 20 needs --experimental-vm-modules for it): the build
 * turns dist/cli.cjs's dynamic imports into calls of this function. The lazy part's files are
 * required, asynchronously as import() would; a package is imported.
 */
function importModule(specifier) {
  return specifier.startsWith('./') ? Promise.resolve().then(() => requireLazy(specifier.slice(2))) : import(specifier)
}

const vendors = new Map()
// The lazy part's `viem` imports call this with the vendor bundle's file name (scripts/build.mjs).
globalThis[Symbol.for('imo.vendor')] = (name) => {
  if (!vendors.has(name)) vendors.set(name, loadBundle(name, true).exports)
  return vendors.get(name)
}

/** dist/cli.cjs's exports and how its code cache was used (see loadBundle); kept for the start-up test. */
function loadCli(useCache) {
  const { exports, script, cache } = loadBundle('cli.cjs', useCache)
  return { cli: exports, script, cache }
}

/** Runs the CLI with process.argv. */
function run() {
  loadCli(true).cli.main()
}

/**
 * Writes `<name>.cache` (scripts/build.mjs calls it in a fresh process, output ignored): compiles the
 * bundle, runs what start-ups run, and saves the compiled code as the process exits. For dist/cli.cjs:
 * every command built and its help rendered, then `imo --help` through main; for the vendor bundle:
 * a client created and a call encoded and decoded; `lazy`: the lazy part's files (writeLazyCodeCaches).
 */
function writeCodeCache(name) {
  if (name === 'lazy') return writeLazyCodeCaches()
  const { exports, script } = loadBundle(name, false)
  const source = readFileSync(join(DIST, name), 'latin1')
  const id = Buffer.from(source.slice(0, source.indexOf('\n') + 1), 'latin1')
  process.once('exit', () => {
    const temporary = join(DIST, `${name}.cache.tmp-${process.pid}`)
    writeFileSync(temporary, Buffer.concat([id, script.createCachedData()]))
    renameSync(temporary, join(DIST, `${name}.cache`))
  })
  if (name !== 'cli.cjs') {
    const { createPublicClient, decodeFunctionResult, encodeFunctionData, getAddress, http, parseAbi } = exports.viem
    createPublicClient({ transport: http('http://127.0.0.1:8545') })
    const abi = parseAbi(['function balanceOf(address) view returns (uint256)'])
    const holder = getAddress('0x70997970c51812dc3a010c7d01b50e0d17dc79c8')
    encodeFunctionData({ abi, functionName: 'balanceOf', args: [holder] })
    decodeFunctionResult({ abi, functionName: 'balanceOf', data: `0x${'0'.repeat(63)}1` })
    return
  }
  const program = exports.buildProgram()
  for (const command of program.commands) command.helpInformation()
  exports.main([process.argv[0], 'imo', '--help'])
}

/**
 * Writes `<file>.cache` for the files of the lazy part (dist/*.cjs but cli.cjs and the vendor
 * bundle): each is loaded (its module code runs, nothing else) and its compiled code saved as the
 * process exits. Functions a command calls later are compiled then, as without a cache.
 */
function writeLazyCodeCaches() {
  const { readdirSync } = require('node:fs')
  loadCli(false)
  const files = readdirSync(DIST).filter((file) => /\.cjs$/.test(file) && file !== 'cli.cjs' && !/^vendor-/.test(file))
  for (const file of files) requireLazy(file)
  process.once('exit', () => {
    for (const [file, module] of lazyModules) {
      const { script } = module.loaded
      const source = readFileSync(join(DIST, file), 'latin1')
      const id = Buffer.from(source.slice(0, source.indexOf('\n') + 1), 'latin1')
      const temporary = join(DIST, `${file}.cache.tmp-${process.pid}`)
      writeFileSync(temporary, Buffer.concat([id, script.createCachedData()]))
      renameSync(temporary, join(DIST, `${file}.cache`))
    }
  })
}

module.exports = { loadBundle, loadCli, run, writeCodeCache }
if (require.main === module) run()
