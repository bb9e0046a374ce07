/**
 * Runs a zk model's circuit as a program: computes its witness (circom's generated WebAssembly) for a
 * prompt and reads back the output bytes it packs into its public signals. This is the circuit's own
 * inference, independent of onnxruntime: tests compare the two on every byte.
 */
import { ImoError } from '../errors.js'
import { hashField, promptField, unpackBytes } from './publicSignals.js'
import { quietConsole, withSnarkjs } from './snarkjs.js'

/**
 * The payload bytes the circuit computes.
 * @param wasm - circuit_js/circuit.wasm.
 * @param claim - the model hash (the circuit refuses any other), prompt bytes and recipient.
 * @param layout - how many packed output fields, and payload bytes, the circuit has.
 * @throws ImoError when the circuit refuses the input (another model's hash).
 * @example
 * import { runCircuit } from './zk/runCircuit.js'
 * const bytes = await runCircuit(paths.wasm, { modelHash, prompt, recipient }, { outputFields: 9, payloadBytes: 256 })
 */
export async function runCircuit(
  wasm: string,
  claim: { modelHash: `0x${string}`; prompt: Uint8Array; recipient: `0x${string}` },
  layout: { outputFields: number; payloadBytes: number },
): Promise<Uint8Array> {
  return withSnarkjs(async (snarkjs) => {
    const witness: { type: 'mem'; data?: Uint8Array } = { type: 'mem' }
    const input = { model: hashField(claim.modelHash), prompt: promptField(claim.prompt), recipient: BigInt(claim.recipient) }
    try {
      await quietConsole(() => snarkjs.wtns.calculate(input, wasm, witness))
    } catch (error) {
      throw new ImoError(`the circuit rejects this input: ${String((error as Error).message).split('\n')[0]}`, { cause: error })
    }
    const values = (await snarkjs.wtns.exportJson(witness)) as bigint[]
    // Witness order: the constant 1, then the public outputs.
    return unpackBytes(values.slice(1, 1 + layout.outputFields).map(BigInt), layout.payloadBytes)
  })
}
