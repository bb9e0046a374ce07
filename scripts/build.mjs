// Bundles the CLI with esbuild in two parts, so that `imo --help` and a read-only command start close
// to `node -e 0` (bench/startup.ts measures it):
//
// - dist/cli.cjs, the start-up part: src/cli.ts and everything it imports statically (commander, the
//   command definitions, options, ui, errors). CommonJS, because Node 20 can load CommonJS through
//   V8's code cache (vm.Script cachedData; ES modules have no such API before Node 22), and
//   bin/imo.cjs does: dist/cli.cjs.cache, written here after a warm-up run, holds the compiled code.
// - everything a command imports in its action (`await import(...)`: viem, onnxruntime glue, ...):
//   entries and shared chunks from esbuild's code splitting, each turned into CommonJS (dist/*.cjs,
//   loaded on demand by bin/imo.cjs through a code cache of its module code: Node 20's ES module
//   loader cost a read-only command a sixth of its start-up).
// - `imo --help` builds no command: the program help's command list is baked into dist/cli.cjs
//   (src/cli.ts, commandList).
//
// viem, which every chain command loads (about a third of a read-only command's CPU time as ES
// modules), is a third part: dist/vendor-<hash>.cjs, CommonJS with its own code cache, loaded on
// first use through a function bin/imo.cjs puts on globalThis; in the lazy part, `viem` and
// `viem/accounts` read from it.
//
// Both parts must share one instance of each start-up module (ImoError classes for `instanceof`, the
// ui settings, registered secrets, interrupt clean-ups). So the start-up part registers those
// modules on globalThis[Symbol.for('imo.startupModules')], and in the lazy part an import of one of
// them becomes a read of that registry. The start-up part is plain CommonJS run by vm.Script, where
// `import()` is unavailable without an experimental flag: its dynamic imports are rewritten to
// `__imoImport(...)`, a function bin/imo.cjs passes in (it requires the lazy part's .cjs files).
//
// Builds into a temporary folder and moves each file into dist/ by rename (chunks first, then
// cli.cjs, then the caches), so a CLI running while someone rebuilds never sees a half-written file;
// the files of earlier builds stay for ten minutes for CLIs still running them.
// No source maps by default: they were 8 MB of the package's 14, and Node reads them only under
// --enable-source-maps. `node scripts/build.mjs --sourcemap` writes them for debugging.

import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { build, transform } from 'esbuild'

const ROOT = process.cwd()
const DIST = join(ROOT, 'dist')
const temporary = join(ROOT, `dist.tmp-${process.pid}`)
const sourcemap = process.argv.includes('--sourcemap') ? 'linked' : false
const REGISTRY = "globalThis[Symbol.for('imo.startupModules')]"

// The native addon, the solc compiler and the packages below stay as packages. bullmq and ioredis:
// bullmq has no exports map, so bundling would take its CommonJS build. inquirer is ES-module only.
const external = ['onnxruntime-node', 'solc', 'inquirer', '@inquirer/*', 'bullmq', 'ioredis', 'snarkjs', 'circom2']
const common = { bundle: true, platform: 'node', target: 'node20', logLevel: 'warning', legalComments: 'none', external }
// The start-up part is CommonJS: import.meta.url becomes the bundle file's URL (src/devnet, src/demo use it).
const startupOptions = {
  ...common,
  format: 'cjs',
  define: { 'import.meta.url': '__imoModuleUrl' },
  // The first line is the build id (see below); a placeholder until the code is known.
  banner: {
    js: `// imo-build ${'0'.repeat(32)}\n'use strict'; const __imoModuleUrl = require('node:url').pathToFileURL(__filename).href;`,
  },
}

/** Path relative to the project, with forward slashes: how esbuild's metafile names inputs. */
const projectPath = (absolute) => relative(ROOT, absolute).split('\\').join('/')

/**
 * Where esbuild resolves an import to (project-relative), or undefined for an external or unresolved
 * one; marked so the plugins asking do not see their own question.
 */
async function resolveInProject(b, args) {
  const resolved = await b.resolve(args.path, {
    kind: args.kind,
    importer: args.importer,
    resolveDir: args.resolveDir,
    pluginData: { inner: true },
  })
  return resolved.errors.length > 0 || resolved.external ? undefined : projectPath(resolved.path)
}

/**
 * esbuild plugin for the start-up part: `import()` of a module outside the start-up graph is left
 * external (pointing at its lazy entry's file when `toEntries`); `onTarget` sees each such module.
 */
function deferDynamicImports({ startup, toEntries, onTarget }) {
  return {
    name: 'imo-defer-dynamic-imports',
    setup(b) {
      b.onResolve({ filter: /.*/ }, async (args) => {
        if (args.kind !== 'dynamic-import' || args.pluginData?.inner) return undefined
        // import('viem') in the start-up part: a lazy entry that re-exports the vendor bundle's.
        const path = Object.hasOwn(VENDOR, args.path) ? `vendor:${args.path}` : await resolveInProject(b, args)
        if (path === undefined) return undefined
        if (startup?.has(path)) return undefined
        onTarget?.(path)
        return { path: toEntries ? `./${entryName(path)}.cjs` : args.path, external: true }
      })
    },
  }
}

/**
 * esbuild plugin for the lazy part: an import of a start-up module becomes a module that re-exports
 * it from the registry the start-up part fills; `used` collects which.
 */
function shareStartupModules(startup, used) {
  const startupPackages = new Set([...startup].map((path) => path.match(/^node_modules\/((?:@[^/]+\/)?[^/]+)/)?.[1]))
  return {
    name: 'imo-share-startup-modules',
    setup(b) {
      b.onResolve({ filter: /.*/ }, async (args) => {
        if (args.pluginData?.inner || args.kind === 'entry-point') return undefined
        // A relative import inside a package the start-up part does not hold cannot reach it.
        const importerPackage = args.importer.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\/(?!.*node_modules\/)/)?.[1]
        if (importerPackage && !startupPackages.has(importerPackage) && args.path.startsWith('.')) return undefined
        const path = await resolveInProject(b, args)
        if (path === undefined) return undefined
        if (!startup.has(path)) return undefined
        used.add(path)
        return { path, namespace: 'imo-startup' }
      })
      b.onLoad({ filter: /.*/, namespace: 'imo-startup' }, async (args) => {
        const names = await exportNames(args.path)
        const named = names.filter((name) => name !== 'default')
        return {
          loader: 'js',
          resolveDir: ROOT,
          contents: [
            `const registered = ${REGISTRY}?.[${JSON.stringify(args.path)}]`,
            `if (!registered) throw new Error(${JSON.stringify(`imo: start-up module ${args.path} is not loaded; run imo through bin/imo.cjs`)})`,
            // Values, not live bindings: the start-up part has finished loading before any lazy module runs.
            named.length > 0 ? `export const { ${named.join(', ')} } = registered` : '',
            names.includes('default') ? 'export default registered.default' : '',
          ].join('\n'),
        }
      })
    },
  }
}

/** The names a module exports, as esbuild sees them. */
async function exportNames(path) {
  const result = await build({ ...common, entryPoints: [path], format: 'esm', write: false, metafile: true, outdir: temporary })
  const entry = Object.values(result.metafile.outputs).find((output) => output.entryPoint)
  return entry.exports
}

/**
 * esbuild plugin for the vendor bundle: @noble/hashes imports node:crypto when it loads (about 5 ms
 * of a read-only command's start-up, before any code runs) for one use, randomBytes (new keys); this
 * replaces the module that does with one that loads node:crypto on that first use.
 */
const nodeCryptoOnFirstUse = {
  name: 'imo-node-crypto-on-first-use',
  setup(b) {
    b.onLoad({ filter: /[\\/]@noble[\\/]hashes[\\/]esm[\\/]cryptoNode\.js$/ }, () => ({
      loader: 'js',
      contents: "export const crypto = { getRandomValues: (bytes) => require('node:crypto').webcrypto.getRandomValues(bytes) }",
    }))
  },
}

/**
 * esbuild plugin for the start-up part: commander loads node:child_process (with net and dgram,
 * about 1 ms) for one use, running an executable subcommand, which imo has none of; it gets a
 * stand-in that loads the module on that use.
 */
const childProcessOnFirstUse = {
  name: 'imo-child-process-on-first-use',
  setup(b) {
    b.onResolve({ filter: /^node:child_process$/ }, (args) =>
      /[\\/]node_modules[\\/]commander[\\/]/.test(args.importer)
        ? { path: 'child_process', namespace: 'imo-lazy-builtin' }
        : undefined,
    )
    b.onLoad({ filter: /.*/, namespace: 'imo-lazy-builtin' }, () => ({
      loader: 'js',
      contents: "module.exports = { spawn: (...args) => require('node:child_process').spawn(...args) }",
    }))
  },
}

/**
 * esbuild plugin for the lazy part: each contract ABI in contracts-abi/ (JSON written out as a
 * TypeScript literal, `as const` for viem's types) becomes JSON.parse of a string. V8 reads JSON
 * several times faster than the same object literal in code: the ABIs a chain command loads took
 * about 5 ms to parse as code.
 */
const abisAsJson = {
  name: 'imo-abis-as-json',
  setup(b) {
    b.onLoad({ filter: /[\\/]contracts-abi[\\/]\w+\.ts$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8')
      let found = 0
      const contents = source.replace(/^export const (\w+Abi) = (\[\n[\s\S]*?\n\]) as const;$/gm, (_, name, json) => {
        found++
        return `export const ${name} = /* @__PURE__ */ JSON.parse(${JSON.stringify(JSON.stringify(JSON.parse(json)))});`
      })
      if (found === 0 && /Abi = /.test(source))
        throw new Error(`${args.path}: no ABI in the form scripts/build-contracts.mjs writes`)
      return { loader: 'ts', contents }
    })
  },
}

/**
 * esbuild plugin for the vendor bundle: viem's simulateCalls module computes six ABI items (keccak
 * hashes, in V8's interpreter at that point) when it loads, which every chain command paid for (about
 * a third of loading viem) and none uses; here they are computed on the first simulateCalls() call.
 * The constants are private to that module and used only below simulateCalls(). If a viem update
 * changes the module, the build says so and bundles it unchanged.
 */
const simulateCallsConstantsOnFirstUse = {
  name: 'imo-simulate-calls-constants-on-first-use',
  setup(b) {
    b.onLoad({ filter: /[\\/]viem[\\/]_esm[\\/]actions[\\/]public[\\/]simulateCalls\.js$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8')
      const names = [
        'transferEventSelector',
        'balanceOfFunction',
        'decimalsFunction',
        'tokenUriFunction',
        'symbolFunction',
        'staticCallFunction',
      ]
      const entry = 'export async function simulateCalls(client, parameters) {\n'
      const assignments = []
      let contents = source
      for (const name of names) {
        const declaration = new RegExp(`^const ${name} = (.+);$`, 'm')
        const found = contents.match(declaration)
        if (!found) break
        assignments.push(`${name} = ${found[1]};`)
        contents = contents.replace(declaration, `let ${name};`)
      }
      if (assignments.length !== names.length || contents.split(entry).length !== 2) {
        console.warn(`scripts/build.mjs: ${args.path} is not as expected; its constants stay computed at load`)
        return undefined
      }
      contents = contents.replace(entry, `${entry}    if (staticCallFunction === undefined) { ${assignments.join(' ')} }\n`)
      return { loader: 'js', contents }
    })
  },
}

/** The packages in dist/vendor-<hash>.cjs, under the names the lazy part imports them by. */
const VENDOR = { viem: 'viem', 'viem/accounts': 'accounts' }
const VENDOR_LOADER = "globalThis[Symbol.for('imo.vendor')]"

/** esbuild plugin for the lazy part: `viem` and `viem/accounts` re-export the vendor bundle's. */
function useVendorBundle(file) {
  return {
    name: 'imo-use-vendor-bundle',
    setup(b) {
      b.onResolve({ filter: /^(vendor:)?viem(\/accounts)?$/ }, (args) => ({
        path: args.path.replace(/^vendor:/, ''),
        namespace: 'imo-vendor',
      }))
      b.onLoad({ filter: /.*/, namespace: 'imo-vendor' }, async (args) => {
        const resolved = await b.resolve(args.path, { kind: 'import-statement', resolveDir: ROOT })
        const names = (await exportNames(resolved.path)).filter((name) => name !== 'default')
        return {
          loader: 'js',
          contents: [
            `const vendor = ${VENDOR_LOADER}?.(${JSON.stringify(file)})?.[${JSON.stringify(VENDOR[args.path])}]`,
            `if (!vendor) throw new Error(${JSON.stringify(`imo: ${file} is not loaded; run imo through bin/imo.cjs`)})`,
            `export const { ${names.join(', ')} } = vendor`,
          ].join('\n'),
        }
      })
    },
  }
}

/**
 * Readies a CommonJS bundle for bin/imo.cjs's code cache: checks it is pure ASCII (the loader reads
 * latin1, the cheapest decoding; esbuild escapes everything else) and replaces the placeholder build
 * id on its first line with the hash of the code. The code cache must never be used with other source
 * (V8 only compares the source's length), so the cache starts with this id and the loader compares.
 */
function withBuildId(code, name) {
  if (Buffer.byteLength(code) !== code.length) throw new Error(`${name} is not pure ASCII`)
  const id = createHash('sha256').update(code).digest('hex').slice(0, 32)
  return { id, code: code.replace(`// imo-build ${'0'.repeat(32)}\n`, `// imo-build ${id}\n`) }
}

/**
 * One ES module file of the lazy part as CommonJS, loaded with require(): Node 20's ES module loader
 * costs about 5 ms to start and 0.3 ms a module, and a read-only command loads some 35 of them (about
 * a sixth of its start-up); require() costs a fraction of that. Imports of other files of the lazy
 * part become require() of their .cjs names (a dynamic one inside a promise, so it stays
 * asynchronous); import() of a package calls bin/imo.cjs's import (vm.Script code has no import();
 * inquirer is an ES module only), and import.meta.url is the file's URL. The files are .cjs, as package.json says "type": "module".
 */
async function toCommonJs(esm, name) {
  const options = {
    loader: 'js',
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    sourcefile: name,
    sourcemap: sourcemap ? 'external' : false,
    minifyWhitespace: true,
    minifySyntax: true,
    define: { 'import.meta.url': '__imoModuleUrl' },
    // The build id line, as in dist/cli.cjs (bin/imo.cjs loads these through their code caches too).
    banner: `// imo-build ${'0'.repeat(32)}`,
  }
  let result = await transform(esm, options)
  if (result.code.includes('__imoModuleUrl'))
    result = await transform(esm, {
      ...options,
      banner: `${options.banner}\nconst __imoModuleUrl=require("node:url").pathToFileURL(__filename).href;`,
    })
  const code = result.code
    .replace(/(?<![\w$.])require\("\.\/([\w.-]+)\.js"\)/g, 'require("./$1.cjs")')
    .replace(/(?<![\w$.])import\("\.\/([\w.-]+)\.js"\)/g, 'Promise.resolve().then(()=>require("./$1.cjs"))')
    // vm.Script has no import(): a package's goes through bin/imo.cjs, as in dist/cli.cjs.
    .replace(/(?<![\w$.])import\((?=["'`])/g, '__imoImport(')
  const left = code.match(/(?<![\w$.])(require|__imoImport)\(["'`]\.\/[^"'`]*\.js["'`]\)|(?<![\w$.])import\(/)
  if (left) throw new Error(`dist/${name}: an import the build could not rewrite: ${code.slice(left.index, left.index + 80)}`)
  return { code: withBuildId(code, `dist/${name}`).code, map: result.map || undefined }
}

/** A lazy entry's name: its path without src/ and extension, e.g. chain-connect (flat, like the chunks). */
const entryName = (path) =>
  `lazy-${path
    .replace(/^src\//, '')
    .replace(/^node_modules\//, '')
    .replace(/\.[cm]?[jt]s$/, '')
    .replace(/[^A-Za-z0-9]+/g, '-')}`

rmSync(temporary, { recursive: true, force: true })
mkdirSync(temporary)
try {
  // 1. The start-up graph: what src/cli.ts reaches through static imports.
  const targets = new Set()
  const probe = await build({
    ...startupOptions,
    entryPoints: ['src/cli.ts'],
    outfile: join(temporary, 'probe.cjs'),
    write: false,
    metafile: true,
    plugins: [deferDynamicImports({ onTarget: (path) => targets.add(path) }), childProcessOnFirstUse],
  })
  const startup = new Set(Object.keys(probe.metafile.inputs))

  // 2. The vendor bundle.
  const vendorBuild = await build({
    ...startupOptions,
    stdin: {
      contents: Object.entries(VENDOR)
        .map(([specifier, name]) => `export * as ${name} from ${JSON.stringify(specifier)}`)
        .join('\n'),
      resolveDir: ROOT,
      sourcefile: 'imo-vendor.js',
      loader: 'js',
    },
    outfile: join(temporary, 'vendor.cjs'),
    write: false,
    minifyWhitespace: true,
    minifySyntax: true,
    plugins: [nodeCryptoOnFirstUse, simulateCallsConstantsOnFirstUse],
  })
  const vendor = withBuildId(vendorBuild.outputFiles[0].text, 'the vendor bundle')
  const vendorFile = `vendor-${vendor.id.slice(0, 8)}.cjs`
  writeFileSync(join(temporary, vendorFile), vendor.code)

  // 3. The lazy part: every module the start-up part imports dynamically, split into entries and
  // shared chunks as ES modules, then each file turned into CommonJS (see toCommonJs).
  const used = new Set()
  const lazyTargets = [...targets].filter((path) => !startup.has(path)).sort()
  const lazyBuild = await build({
    ...common,
    entryPoints: Object.fromEntries(lazyTargets.map((path) => [entryName(path), path])),
    outdir: temporary,
    write: false,
    format: 'esm',
    splitting: true,
    sourcemap: sourcemap && 'inline',
    // Less for V8 to parse on each start (about a third less); names stay, for stack traces.
    minifyWhitespace: true,
    minifySyntax: true,
    plugins: [useVendorBundle(vendorFile), shareStartupModules(startup, used), abisAsJson],
  })
  for (const file of lazyBuild.outputFiles) {
    const name = file.path.slice(temporary.length + 1)
    if (!name.endsWith('.js') || name.includes('/')) throw new Error(`the lazy part wrote ${name}: expected flat .js files`)
    const { code, map } = await toCommonJs(file.text, name)
    const cjsName = name.replace(/\.js$/, '.cjs')
    writeFileSync(join(temporary, cjsName), map ? `${code}//# sourceMappingURL=${cjsName}.map\n` : code)
    if (map) writeFileSync(join(temporary, `${cjsName}.map`), map)
  }

  // 4. The start-up part, registering the modules the lazy part reads.
  const shared = [...used].sort()
  const entry = [
    "export * from './src/cli.ts'",
    ...shared.map((path, i) => `import * as shared${i} from ${JSON.stringify(`./${path}`)}`),
    `${REGISTRY} = { ${shared.map((path, i) => `${JSON.stringify(path)}: shared${i}`).join(', ')} }`,
  ].join('\n')
  const buildStartup = (define) =>
    build({
      ...startupOptions,
      define: { ...startupOptions.define, ...define },
      stdin: { contents: entry, resolveDir: ROOT, sourcefile: 'imo-startup.js', loader: 'js' },
      outfile: join(temporary, 'cli.cjs'),
      write: false,
      sourcemap,
      plugins: [deferDynamicImports({ startup, toEntries: true }), childProcessOnFirstUse],
    })
  // The program help's command list (src/cli.ts, commandList), from a first build run in a fresh
  // process, baked into the second: `imo --help` then builds none of the commands.
  const listing = join(temporary, 'list-commands.cjs')
  writeFileSync(listing, (await buildStartup({})).outputFiles.find((file) => file.path.endsWith('cli.cjs')).text)
  const list = execFileSync(
    process.execPath,
    ['-e', `process.stdout.write(JSON.stringify(require(${JSON.stringify(listing)}).commandList()))`],
    {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
    },
  )
  rmSync(listing)
  const startupBuild = await buildStartup({ __IMO_COMMAND_LIST__: list })
  let code = startupBuild.outputFiles.find((file) => file.path.endsWith('cli.cjs')).text
  const map = startupBuild.outputFiles.find((file) => file.path.endsWith('cli.cjs.map'))
  if (map) writeFileSync(join(temporary, 'cli.cjs.map'), map.contents)
  // vm.Script has no import(): every dynamic import calls the loader's function instead.
  code = code.replace(/(?<![\w$.])import\((?=["'`])/g, '__imoImport(')
  const left = code.match(/(?<![\w$.])import\(/)
  if (left) throw new Error(`dist/cli.cjs: an import() the build could not rewrite: ${code.slice(left.index, left.index + 80)}`)
  writeFileSync(join(temporary, 'cli.cjs'), withBuildId(code, 'dist/cli.cjs').code)

  mkdirSync(DIST, { recursive: true })
  const built = readdirSync(temporary).filter((file) => file !== 'cli.cjs' && file !== 'cli.cjs.map')
  for (const file of built) renameSync(join(temporary, file), join(DIST, file))
  if (sourcemap) renameSync(join(temporary, 'cli.cjs.map'), join(DIST, 'cli.cjs.map'))
  renameSync(join(temporary, 'cli.cjs'), join(DIST, 'cli.cjs'))

  // 5. The code caches, from warm-ups in fresh processes (the flags V8 checks are a plain run's).
  for (const file of ['cli.cjs', vendorFile, 'lazy'])
    execFileSync(process.execPath, ['-e', `require('./bin/imo.cjs').writeCodeCache(${JSON.stringify(file)})`], {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'inherit'],
    })

  // Files of earlier builds: dropped once they are old enough that no running CLI still needs them,
  // or at once with --clean (`npm pack` runs it, so the package holds this build's files only).
  const keep = new Set([
    ...built,
    ...built.map((file) => `${file}.cache`),
    'cli.cjs',
    'cli.cjs.cache',
    ...(sourcemap ? ['cli.cjs.map'] : []),
  ])
  const clean = process.argv.includes('--clean')
  for (const file of readdirSync(DIST)) {
    if (!keep.has(file) && (clean || Date.now() - statSync(join(DIST, file)).mtimeMs > 10 * 60_000))
      rmSync(join(DIST, file), { recursive: true, force: true })
  }
  const size = (file) => statSync(join(DIST, file)).size
  const lazyBytes = built.reduce((sum, file) => sum + size(file), 0)
  if (process.argv.includes('--report'))
    console.log(
      `dist/cli.cjs ${size('cli.cjs')} bytes (${startup.size} modules, ${shared.length} shared), cache ${size('cli.cjs.cache')} bytes; ` +
        `dist/${vendorFile} ${size(vendorFile)} bytes, cache ${size(`${vendorFile}.cache`)} bytes; ` +
        `${built.length} lazy files, ${lazyBytes} bytes`,
    )
} finally {
  rmSync(temporary, { recursive: true, force: true })
}
