import { Command, InvalidArgumentError, Option } from 'commander'
import { withExamples } from '../cli/help.js'
import { addOptionGroups, zkOptions } from '../cli/options.js'

const wholeNumber = (min: number, max: number) => (value: string) => {
  const n = Number(value)
  if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`)
  return n
}

function compileCommand(): Command {
  const command = new Command('compile')
    .description(
      'quantize a float ONNX model into a zk model folder and compile its circuit (with --ptau: also the PLONK keys and verifier)',
    )
    .argument('<MODEL>', 'a float .onnx model (one input [1, L], L <= 31; output [1, C, H, W] in [0, 1)), or a zk model folder')
    .requiredOption('--out <DIR>', 'where to write model/ (the quantized model) and circuit/ (circuit, keys, verifier)')
    .addOption(
      new Option('--frac-bits <N>', 'fractional bits of the weights and of Relu/Sin outputs (even, default 8)').argParser(
        wholeNumber(2, 16),
      ),
    )
    .addOption(
      new Option(
        '--palette <COLOURS>',
        'one-channel images: comma-separated key colours "#rrggbb,#rrggbb,..." of the 256-entry palette',
      ),
    )
  addOptionGroups(command, zkOptions)
  command.action(
    async (
      input: string,
      options: { out: string; fracBits?: number; palette?: string; ptau?: string; insecurePtau?: boolean },
    ) => {
      const { compileZkModel } = await import('../zk/compileZkModel.js')
      const { printResult, withSpinner, warn } = await import('../cli/ui.js')
      if (options.insecurePtau && !options.ptau) throw new InvalidArgumentError('--insecure-ptau needs --ptau')
      const result = await withSpinner(
        'compiling',
        (s) =>
          compileZkModel({
            input,
            outDir: options.out,
            ...(options.fracBits !== undefined ? { fracBits: options.fracBits } : {}),
            ...(options.palette ? { palette: options.palette.split(',').map((c) => c.trim()) } : {}),
            ...(options.ptau ? { ptau: options.ptau, allowInsecurePtau: Boolean(options.insecurePtau) } : {}),
            onStep: s.update,
          }),
        () => 'compiled',
      )
      if (result.setup?.insecure) warn(`INSECURE setup: ${result.ptau}`)
      const circuit = result.circuit!
      const c = circuit.constraints
      const data = {
        modelHash: result.model.modelHash,
        modelFolder: result.modelFolder ?? result.model.folder,
        circuitDir: result.circuitDir,
        output: {
          dims: result.model.graph.output.dims,
          publicOutputs: circuit.outputFields,
          aigcDataBytes: circuit.prefixBytes + circuit.payloadBytes,
        },
        constraints: c,
        largestValue: result.largest ? { node: result.largest.node, bits: result.largest.bound.toString(2).length } : null,
        setup: result.setup
          ? {
              ptau: result.ptau,
              insecure: result.setup.insecure,
              power: result.setup.power,
              plonkConstraints: result.setup.plonkConstraints,
            }
          : null,
      }
      printResult(data, (d) =>
        [
          `model hash   ${d.modelHash}`,
          `model        ${d.modelFolder}`,
          `circuit      ${d.circuitDir}  (${c.nonLinear} non-linear + ${c.linear} linear R1CS constraints; ${c.multiplications} multiplications, ${c.rangeChecks} range checks of ${c.rangeCheckBits} bits)`,
          `output       [${d.output.dims}] -> aigcData of ${d.output.aigcDataBytes} bytes, ${d.output.publicOutputs} public field elements`,
          d.largestValue
            ? `largest      2^${d.largestValue.bits} at node '${d.largestValue.node}' (exact below 2^53)`
            : undefined,
          d.setup
            ? `setup        PLONK, 2^${d.setup.power} domain, ${d.setup.plonkConstraints} gates, ${d.setup.ptau}`
            : 'setup        none yet: add --ptau FILE for the proving key and the Solidity verifier',
        ]
          .filter(Boolean)
          .join('\n'),
      )
    },
  )
  return withExamples(command, [
    'imo zk compile cppn.onnx --out zk/cppn                                       # model + circuit',
    'imo zk compile cppn.onnx --out zk/cppn --ptau powersOfTau28_hez_final_15.ptau # + keys and verifier',
    'imo zk compile ./models/zkcppn --out /tmp/zkcppn --json                      # circuit of a zk model folder',
  ])
}

function ptauCommand(): Command {
  const command = new Command('ptau')
    .description('write an INSECURE powers-of-tau file for tests: its secret is public, so anyone can forge proofs made with it')
    .requiredOption('--out <FILE>', 'the .ptau file to write')
    .requiredOption('--power <N>', 'largest PLONK domain 2^N (1 to 18)', wholeNumber(1, 18))
    .requiredOption('--insecure', 'required: say that you know this file makes forgeable proofs')
  command.action(async (options: { out: string; power: number }) => {
    const { writeInsecurePtau } = await import('../zk/writeInsecurePtau.js')
    const { printResult, withSpinner, warn } = await import('../cli/ui.js')
    await withSpinner(
      `writing 2^${options.power} powers`,
      (s) =>
        writeInsecurePtau(options.out, options.power, (done, total) =>
          s.update(`writing 2^${options.power} powers: ${done}/${total} points`),
        ),
      () => `wrote ${options.out}`,
    )
    warn('INSECURE: use it only with --insecure-ptau, for tests and demos')
    printResult({ ptau: options.out, power: options.power, insecure: true }, (d) => `${d.ptau} (2^${d.power}, INSECURE)`)
  })
  return withExamples(command, ['imo zk ptau --insecure --power 12 --out /tmp/test.ptau'])
}

/** `imo zk`: models whose outputs the chain itself checks with a PLONK proof. */
export function zkCommand(): Command {
  const command = new Command('zk').description('zk proofs for small models: compile a model into a circuit, make test setups')
  command.addCommand(compileCommand())
  command.addCommand(ptauCommand())
  return withExamples(command, ['imo zk compile cppn.onnx --out zk/cppn --ptau powersOfTau28_hez_final_15.ptau'])
}
