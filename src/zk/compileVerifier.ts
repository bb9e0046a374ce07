/**
 * Compiles a model's snarkjs-generated PLONK verifier with solc-js (the pinned compiler of
 * scripts/build-contracts.mjs, with the same optimizer settings), so `imo deploy --proof-scheme zk` can
 * deploy it without a Solidity toolchain. The verifier's constants are the model's verification key,
 * so it is compiled per model; the same source and compiler give the same bytecode, which anyone can
 * re-derive from the model and the powers-of-tau file.
 */
import { createRequire } from 'node:module'
import { ImoError } from '../errors.js'

/** The compiler settings of the project's contracts (scripts/build-contracts.mjs SETTINGS). */
export const VERIFIER_COMPILER_SETTINGS = {
  optimizer: { enabled: true, runs: 10_000 },
  viaIR: false,
  evmVersion: 'cancun',
  metadata: { bytecodeHash: 'ipfs' },
} as const

/** A compiled verifier. */
export interface CompiledVerifier {
  contractName: string
  abi: unknown[]
  bytecode: `0x${string}`
  compiler: string
}

/**
 * Compiles one Solidity source holding one contract.
 * @param source - the verifier's Solidity source.
 * @param fileName - its name in the compiler's input (appears in the metadata).
 * @throws ImoError when solc reports an error.
 * @example
 * import { compileVerifier } from './zk/compileVerifier.js'
 * const { bytecode } = compileVerifier(readFileSync('ZkVerifier.sol', 'utf8'), 'ZkVerifier.sol')
 */
export function compileVerifier(source: string, fileName: string): CompiledVerifier {
  const solc = createRequire(import.meta.url)('solc') as { compile(input: string): string; version(): string }
  const input = {
    language: 'Solidity',
    sources: { [fileName]: { content: source } },
    settings: { ...VERIFIER_COMPILER_SETTINGS, outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } } },
  }
  const output = JSON.parse(solc.compile(JSON.stringify(input))) as {
    errors?: { severity: string; formattedMessage: string }[]
    contracts?: Record<string, Record<string, { abi: unknown[]; evm: { bytecode: { object: string } } }>>
  }
  const errors = (output.errors ?? []).filter((e) => e.severity === 'error')
  if (errors.length > 0) throw new ImoError(`solc could not compile ${fileName}: ${errors[0]!.formattedMessage.split('\n')[0]}`)
  const contracts = Object.entries(output.contracts?.[fileName] ?? {})
  if (contracts.length !== 1) throw new ImoError(`${fileName} must hold exactly one contract, it holds ${contracts.length}`)
  const [contractName, artifact] = contracts[0]!
  return { contractName, abi: artifact.abi, bytecode: `0x${artifact.evm.bytecode.object}`, compiler: solc.version() }
}
