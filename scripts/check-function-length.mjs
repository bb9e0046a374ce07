// Fails when a function in the given folders is longer than the limit (150 lines by default), so the
// places everything goes through stay readable as named stages (issue 25). Test files are left out.
// Usage: node scripts/check-function-length.mjs [--max N] FOLDER...
// Uses the TypeScript compiler's parser (a devDependency already), so arrow functions, methods and
// nested closures are counted as the language sees them; a function's lines include its nested ones.
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import ts from 'typescript'

const args = process.argv.slice(2)
let max = 150
const folders = []
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--max') max = Number(args[++i])
  else folders.push(args[i])
}
if (folders.length === 0 || !Number.isInteger(max) || max < 1) {
  console.error('usage: node scripts/check-function-length.mjs [--max N] FOLDER...')
  process.exit(2)
}

function sourceFiles(folder) {
  const found = []
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    const path = join(folder, entry.name)
    if (entry.isDirectory()) found.push(...sourceFiles(path))
    else if (/\.(ts|mts|tsx)$/.test(entry.name) && !/\.test\.tsx?$/.test(entry.name) && !entry.name.endsWith('.d.ts'))
      found.push(path)
  }
  return found
}

function nameOf(node, source) {
  if (node.name) return node.name.getText(source)
  // An arrow function or function expression takes the name it is assigned to, if any.
  const parent = node.parent
  if (parent && (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent)))
    return parent.name.getText(source)
  if (ts.isConstructorDeclaration(node)) return 'constructor'
  return '(anonymous)'
}

const tooLong = []
let functions = 0
for (const folder of folders) {
  for (const path of sourceFiles(folder)) {
    const source = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest, true)
    const visit = (node) => {
      if (ts.isFunctionLike(node) && 'body' in node && node.body) {
        functions++
        const first = source.getLineAndCharacterOfPosition(node.getStart(source)).line
        const last = source.getLineAndCharacterOfPosition(node.getEnd()).line
        const lines = last - first + 1
        if (lines > max) tooLong.push(`${relative(process.cwd(), path)}:${first + 1} ${nameOf(node, source)} is ${lines} lines`)
      }
      ts.forEachChild(node, visit)
    }
    visit(source)
  }
}
if (tooLong.length > 0) {
  console.error(`functions over ${max} lines (split them into named stages):\n${tooLong.map((line) => `  ${line}`).join('\n')}`)
  process.exit(1)
}
console.log(`check-function-length: ${functions} functions in ${folders.join(', ')}, none over ${max} lines`)
