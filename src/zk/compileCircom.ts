/**
 * Compiles a circom circuit in process with the circom compiler built as WebAssembly (npm `circom2`,
 * circom 2.2.3), so no native toolchain is needed: the source goes into a work folder, circom writes
 * `<name>.r1cs` and the witness generator `<name>_js/<name>.wasm` there. Its terminal output is captured
 * (not printed), and a failure becomes one error carrying circom's own message.
 */
import * as fs from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { ImoError } from '../errors.js'

/** What circom produced. */
export interface CompiledCircuit {
  r1cs: string
  wasm: string
  /** circom's counts, from its report. */
  nonLinearConstraints: number
  linearConstraints: number
  wires: number
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: circom colours its report with ANSI escapes
const ANSI = /\x1b\[[0-9;]*m/g

/**
 * Compiles `source` as `<dir>/<name>.circom` (with `--O1`: only trivial equalities are substituted, so
 * the linear constraints imo writes stay as written and PLONK gets no blown-up combinations).
 * @param source - the circom program.
 * @param dir - an existing work folder (circom may only touch this folder).
 * @param name - the file's base name.
 * @returns the r1cs and wasm paths and circom's constraint counts.
 * @throws ImoError (exit 1) with circom's error message when it does not compile.
 * @example
 * import { compileCircom } from './zk/compileCircom.js'
 * const c = await compileCircom('pragma circom 2.1.0; template T() { signal input a; signal output b; b <== a * a; } component main = T();', dir, 'square')
 * c.nonLinearConstraints // 1
 */
export async function compileCircom(source: string, dir: string, name: string): Promise<CompiledCircuit> {
  const { CircomRunner, bindings } = await import('circom2')
  fs.writeFileSync(join(dir, `${name}.circom`), source)
  let output = ''
  const capturingFs = {
    ...fs,
    writeSync(fd: number, buffer: Uint8Array, offset = 0, length = buffer.length - offset, position?: number | null) {
      if (fd === 1 || fd === 2) {
        output += Buffer.from(buffer.buffer, buffer.byteOffset + offset, length).toString('utf8')
        return length
      }
      return fs.writeSync(fd, buffer, offset, length, position)
    },
  }
  const runner = new CircomRunner({
    args: [`${name}.circom`, '--r1cs', '--wasm', '--O1', '-o', '.'],
    env: {},
    preopens: { '.': dir },
    bindings: { ...bindings, fs: capturingFs },
  })
  const wasmPath = createRequire(import.meta.url).resolve('circom2/circom.wasm')
  try {
    await runner.execute(fs.readFileSync(wasmPath))
  } catch (error) {
    const message = output.replace(ANSI, '').trim()
    const first = message.split('\n').find((line) => /error/i.test(line)) ?? message.split('\n')[0] ?? String(error)
    throw new ImoError(`circom could not compile ${name}.circom: ${first.trim()}`, { details: message, cause: error })
  }
  const report = output.replace(ANSI, '')
  const count = (label: string) => Number(new RegExp(`(?:^|\\n)${label}: (\\d+)`).exec(report)?.[1] ?? Number.NaN)
  return {
    r1cs: join(dir, `${name}.r1cs`),
    wasm: join(dir, `${name}_js`, `${name}.wasm`),
    nonLinearConstraints: count('non-linear constraints'),
    linearConstraints: count('linear constraints'),
    wires: count('wires'),
  }
}
