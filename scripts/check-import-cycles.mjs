// Fails when the import graph of a source folder has a cycle (issue 25): every `import`, `export
// ... from` and `import()` of a TypeScript file under the folder, type-only ones included (a type
// import still ties two modules' meanings together), resolved with the TypeScript compiler's own
// module resolution and the project's tsconfig.json, so `./x.js` finds `./x.ts` as tsc does.
//   node scripts/check-import-cycles.mjs [folder=src]
// Prints each cycle as a chain of paths and exits 1; prints the module count and exits 0 otherwise.
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'
import ts from 'typescript'

const folder = resolve(process.argv[2] ?? 'src')
const configPath = ts.findConfigFile(process.cwd(), ts.sys.fileExists, 'tsconfig.json')
const options = configPath
  ? ts.parseJsonConfigFileContent(ts.readConfigFile(configPath, ts.sys.readFile).config, ts.sys, process.cwd()).options
  : { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext }

/** Every .ts / .mts file under a folder (declaration files aside). */
function sources(dir) {
  const found = []
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory() && entry.name !== 'node_modules') found.push(...sources(path))
    else if (entry.isFile() && /\.m?ts$/.test(entry.name) && !entry.name.endsWith('.d.ts')) found.push(path)
  }
  return found
}

const files = sources(folder).sort()
const inside = new Set(files)
/** @type {Map<string, string[]>} */
const edges = new Map()
for (const file of files) {
  // preProcessFile lists static imports, re-exports and import() calls with a literal specifier.
  const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true)
  const targets = new Set()
  for (const { fileName } of importedFiles) {
    const resolved = ts.resolveModuleName(fileName, file, options, ts.sys).resolvedModule?.resolvedFileName
    if (resolved && inside.has(resolve(resolved))) targets.add(resolve(resolved))
  }
  edges.set(file, [...targets].sort())
}

// Tarjan's strongly connected components: every component of more than one module, or a module that
// imports itself, holds a cycle.
let counter = 0
const index = new Map()
const low = new Map()
const stack = []
const onStack = new Set()
const components = []
function connect(node) {
  index.set(node, counter)
  low.set(node, counter)
  counter++
  stack.push(node)
  onStack.add(node)
  for (const next of edges.get(node)) {
    if (!index.has(next)) {
      connect(next)
      low.set(node, Math.min(low.get(node), low.get(next)))
    } else if (onStack.has(next)) low.set(node, Math.min(low.get(node), index.get(next)))
  }
  if (low.get(node) === index.get(node)) {
    const component = []
    let member
    do {
      member = stack.pop()
      onStack.delete(member)
      component.push(member)
    } while (member !== node)
    if (component.length > 1 || edges.get(node).includes(node)) components.push(component)
  }
}
for (const file of files) if (!index.has(file)) connect(file)

/** One shortest cycle through the component's first module (breadth-first inside the component). */
function cycleIn(component) {
  const members = new Set(component)
  const start = [...component].sort()[0]
  const previous = new Map([[start, undefined]])
  const queue = [start]
  while (queue.length > 0) {
    const node = queue.shift()
    for (const next of edges.get(node)) {
      if (next === start) {
        const path = [start]
        for (let at = node; at !== start; at = previous.get(at)) path.splice(1, 0, at)
        return [...path, start]
      }
      if (members.has(next) && !previous.has(next)) {
        previous.set(next, node)
        queue.push(next)
      }
    }
  }
  return [start, start]
}

const show = (path) => relative(process.cwd(), path)
if (components.length > 0) {
  for (const component of components) {
    const cycle = cycleIn(component)
    const more =
      component.length > cycle.length - 1
        ? ` (one of the cycles tying ${component.length} modules: ${component.map(show).sort().join(', ')})`
        : ''
    console.error(`import cycle: ${cycle.map(show).join(' -> ')}${more}`)
  }
  console.error(`${components.length} import cycle${components.length === 1 ? '' : 's'} in ${show(folder)}/`)
  process.exit(1)
}
console.log(`no import cycle among ${files.length} modules in ${show(folder)}/`)
