#!/usr/bin/env node
'use strict'
// The entry: runs dist/cli.cjs (written by scripts/build.mjs) through V8's code cache in
// dist/cli.cjs.cache, so a start-up does not compile again what the build's warm-up compiled.
// Node 20 has no module.enableCompileCache (22.1+) and its ES module loader takes no cached data;
// vm.Script does. A cache from another Node version (V8 rejects it) or from another build (the id on
// cli.cjs's first line differs) is ignored: the CLI then compiles as it would without one.
// CommonJS, because an ES module entry costs Node about 5 ms more to start.

const { readFileSync, renameSync, writeFileSync } = require('node:fs')
const { createRequire } = require('node:module')
const { join } = require('node:path')
const { Script } = require('node:vm')

const DIST = join(__dirname, '..', 'dist')
const CLI = join(DIST, 'cli.cjs')
const CACHE = `${CLI}.cache`

/**
 * dist/cli.cjs's exports, its vm.Script, and whether the code cache was used ('used'), refused by
 * V8 ('rejected': another Node version or flags) or absent or of another build ('none').
 * `useCache` reads the cache when its build id matches.
 */
function loadCli(useCache) {
  let source
  try {
    // Pure ASCII (the build checks), and latin1 is the cheapest decoding.
    source = readFileSync(CLI, 'latin1')
  } catch (error) {
    if (error.code !== 'ENOENT') throw error
    process.stderr.write('error: imo is not built yet; run `npm ci` (or `npm run build`) in its folder\n')
    process.exit(1)
  }
  const id = source.slice(0, source.indexOf('\n') + 1) // '// imo-build <hash of the code>\n'
  let cachedData
  if (useCache && id.startsWith('// imo-build '))
    try {
      const cache = readFileSync(CACHE)
      if (cache.latin1Slice(0, id.length) === id) cachedData = cache.subarray(id.length)
    } catch {
      // no cache: compile
    }
  // The wrapper shares the first line with the code, so line numbers in stack traces stay right.
  const script = new Script(`(function (exports, require, module, __filename, __dirname, __imoImport) {${source}\n})`, {
    filename: CLI,
    cachedData,
  })
  // vm.Script code cannot use import() (Node 20 needs --experimental-vm-modules for it): the build
  // turns dist/cli.cjs's dynamic imports into calls of this function, which imports from here.
  const importModule = (specifier) =>
    import(specifier.startsWith('./') ? require('node:url').pathToFileURL(join(DIST, specifier)).href : specifier)
  const module = { exports: {} }
  script.runInThisContext()(module.exports, createRequire(CLI), module, CLI, DIST, importModule)
  const cache = cachedData ? (script.cachedDataRejected ? 'rejected' : 'used') : 'none'
  return { cli: module.exports, script, cache }
}

/** Runs the CLI with process.argv. */
function run() {
  loadCli(true).cli.main()
}

/**
 * Writes dist/cli.cjs.cache (scripts/build.mjs calls it in a fresh process, output ignored): compiles
 * the CLI, runs what start-ups run (every command built and its help rendered, then `imo --help`
 * through main), and saves the compiled code as the process exits.
 */
function writeCodeCache() {
  const { cli, script } = loadCli(false)
  const program = cli.buildProgram()
  for (const command of program.commands) command.helpInformation()
  const source = readFileSync(CLI, 'latin1')
  const id = Buffer.from(source.slice(0, source.indexOf('\n') + 1), 'latin1')
  process.once('exit', () => {
    const temporary = `${CACHE}.tmp-${process.pid}`
    writeFileSync(temporary, Buffer.concat([id, script.createCachedData()]))
    renameSync(temporary, CACHE)
  })
  cli.main([process.argv[0], 'imo', '--help'])
}

module.exports = { loadCli, run, writeCodeCache }
if (require.main === module) run()
