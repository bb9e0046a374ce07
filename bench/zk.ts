// Benchmark of zk proofs (not a test; run `npm run build` first):
//   npx tsx bench/zk.ts            # the bundled models/zkcppn and the 2-layer MLP
//   npx tsx bench/zk.ts mlp        # one of them: zkcppn or mlp
// Two models: the bundled zk model models/zkcppn, and a 2-layer MLP of 64 hidden units (16 latent ->
// Gemm+Relu 64 -> Gemm+Relu 64 -> 16 palette indices; buildZkMlpFloat in scripts/build-zk-model.ts,
// from a fixed seed, written with imo's ONNX writer and compiled here with `imo zk compile`).
// For each: constraints (R1CS and PLONK gates), then
// imo: `imo infer --prove` as a user runs it (a child process: hash the model, run it with onnxruntime,
// write the record, compute the witness with the circuit's wasm, check it against the inference, PLONK
// prove, write proof.json), its wall time, peak RSS (GNU time, else the process's maxRSS) and the
// proving time it reports. Baseline, measured in the same run on the same circuit, keys and input:
// snarkjs's own CLI, `snarkjs wtns calculate` then `snarkjs plonk prove`, as two child processes (their
// wall times summed, the larger peak RSS). Then gas on anvil (cancun, as bench/gas.ts): `imo deploy
// --proof-scheme zk` (verifier + ZkAigcCollection), `imo mint` of that proof by another account, the
// mint transaction's gas, and the collection's `verify` (PLONK verifier included) as execution gas
// (eth_estimateGas less the intrinsic 21,000 + calldata).
// Keys come from insecure test ptau files made once in imo's zk cache (IMO_ZK_CACHE, default
// ~/.cache/imo/zk): 2^15, or larger when a circuit needs it; the warm-up run makes the circuit and keys.
// Targets: imo's wall time <= 1.10 x the baseline's; verification gas <= 350,000 per mint.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { availableParallelism, loadavg, tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createPublicClient, encodeFunctionData, type Hex, http, toHex } from 'viem'
import { zkAigcCollectionAbi } from '../contracts-abi/index.js'
import { buildZkMlpFloat } from '../scripts/build-zk-model.js'
import { type Anvil, startAnvil } from '../src/devnet/startAnvil.js'
import { encodeZkProof } from '../src/mint/encodeProof.js'
import { proofWords, type ZkProofFile } from '../src/zk/proveZk.js'
import { hashField, promptField } from '../src/zk/publicSignals.js'
import { readZkModel } from '../src/zk/readZkModel.js'
import { cachedInsecurePtau } from '../src/zk/writeInsecurePtau.js'
import { artifactPaths, type ZkCircuitInfo, type ZkSetupInfo, zkCacheDir } from '../src/zk/zkArtifacts.js'
import { type Run, runOnce } from './lib/measure.js'

const repo = fileURLToPath(new URL('..', import.meta.url))
const imoBin = join(repo, 'bin', 'imo.cjs')
const prompt = 'a red spiral'
const VERIFY_GAS_TARGET = 350_000
const scratch = mkdtempSync(join(tmpdir(), 'imo-bench-zk-'))
let anvil: Anvil | undefined
process.once('exit', () => rmSync(scratch, { recursive: true, force: true }))
const env = { ...process.env, CI: 'true', NO_COLOR: '1' }
const mib = (kib: number | undefined) => (kib === undefined ? 'n/a' : `${(kib / 1024).toFixed(0)} MiB`)
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`
const check = (label: string, run: Run) => {
  if (run.code !== 0) throw new Error(`${label} exited ${run.code}: ${run.stderr.trim()}`)
  return run
}
const imo = (args: string[], extraEnv: NodeJS.ProcessEnv = {}) =>
  runOnce(process.execPath, [imoBin, ...args], { env: { ...env, ...extraEnv }, cwd: scratch })

/** An insecure ptau large enough for the circuit: `imo zk compile` says which power it needs when 2^15 is not. */
async function compileWithPtau(input: string, out: string): Promise<{ ptau: string; compiled: Run }> {
  let ptau = await cachedInsecurePtau(15)
  let compiled = await imo(['zk', 'compile', input, '--out', out, '--ptau', ptau, '--insecure-ptau', '--json'])
  const needed = compiled.code === 2 ? /needs 2\^(\d+)/.exec(compiled.stderr) : null
  if (needed) {
    console.log(`the circuit needs 2^${needed[1]}: making an insecure ptau of that size in the cache ...`)
    ptau = await cachedInsecurePtau(Number(needed[1]))
    rmSync(out, { recursive: true, force: true })
    compiled = await imo(['zk', 'compile', input, '--out', out, '--ptau', ptau, '--insecure-ptau', '--json'])
  }
  return { ptau, compiled: check(`imo zk compile ${input}`, compiled) }
}

/** The model folder to prove with, and the ptau its keys come from. */
async function prepare(name: string): Promise<{ folder: string; ptau: string }> {
  if (name === 'zkcppn') return { folder: join(repo, 'models', 'zkcppn'), ptau: await cachedInsecurePtau(15) }
  const floatPath = join(scratch, 'mlp.onnx')
  writeFileSync(floatPath, buildZkMlpFloat())
  const { ptau } = await compileWithPtau(floatPath, join(scratch, 'mlp-compiled'))
  return { folder: join(scratch, 'mlp-compiled', 'model'), ptau }
}

interface ProveFigures {
  bareWitness: Run
  bareProve: Run
  imo: Run
  reported: { proveMs: number; witnessMs: number; peakRssBytes: number }
}

/** Warm-up, then snarkjs's CLI and `imo infer --prove` on the same circuit, keys and input. */
async function measureProving(folder: string, ptau: string, recipient: string, outDir: string): Promise<ProveFigures> {
  const inferArgs = (out: string, extra: string[] = []) => [
    'infer',
    '--model',
    folder,
    '--prompt',
    prompt,
    '--out',
    out,
    '--prove',
    '--to',
    recipient,
    '--json',
    ...extra,
  ]
  check('warm-up', await imo(inferArgs(`${outDir}-warm`, ['--ptau', ptau, '--insecure-ptau'])))
  const zk = await readZkModel(folder)
  const paths = artifactPaths(zkCacheDir(zk.modelHash))
  const input = join(scratch, `${outDir}-input.json`)
  writeFileSync(
    input,
    JSON.stringify({
      model: hashField(zk.modelHash).toString(),
      prompt: promptField(new TextEncoder().encode(prompt)).toString(),
      recipient: BigInt(recipient).toString(),
    }),
  )
  const snarkjsCli = join(dirname(createRequire(join(repo, 'package.json')).resolve('snarkjs')), 'cli.cjs')
  const witness = join(scratch, `${outDir}.wtns`)
  const bare = (label: string, args: string[]) =>
    runOnce(process.execPath, [snarkjsCli, ...args], { env }).then((r) => check(label, r))
  const bareWitness = await bare('snarkjs wtns calculate', ['wtns', 'calculate', paths.wasm, input, witness])
  const publicJson = join(scratch, `${outDir}-public.json`)
  const bareProve = await bare('snarkjs plonk prove', [
    'plonk',
    'prove',
    paths.zkey,
    witness,
    join(scratch, `${outDir}-proof.json`),
    publicJson,
  ])
  const timed = check('imo infer --prove', await imo(inferArgs(outDir)))
  const ours = (JSON.parse(readFileSync(join(scratch, outDir, 'proof.json'), 'utf8')) as ZkProofFile).publicSignals
  if (readFileSync(publicJson, 'utf8').replace(/\s/g, '') !== JSON.stringify(ours))
    throw new Error('snarkjs and imo proved other public signals')
  return { bareWitness, bareProve, imo: timed, reported: JSON.parse(timed.stdout).proof }
}

/** Intrinsic gas of a transaction's data: 21,000 and 4 or 16 a calldata byte. */
function intrinsicGas(data: Hex): bigint {
  return Buffer.from(data.slice(2), 'hex').reduce((sum, b) => sum + (b === 0 ? 4n : 16n), 21_000n)
}

interface CallFrame {
  to: Hex
  gasUsed: Hex
  calls?: CallFrame[]
}

/** The gas the verifier's staticcall used inside a traced call (callTracer). */
function verifierGas(frame: CallFrame, verifier: Hex): bigint {
  const found = (frame.calls ?? []).find((c) => c.to.toLowerCase() === verifier.toLowerCase())
  if (!found) throw new Error('the trace shows no call to the verifier')
  return BigInt(found.gasUsed)
}

/**
 * `imo deploy --proof-scheme zk` and `imo mint` of the timed proof on anvil. Gas from anvil's call
 * tracer (eth_estimateGas would not do: `verify` returns false rather than reverting when the verifier
 * runs out of gas, so the estimate finds a gas limit at which it merely returns): the mint
 * transaction's gas, the verifier's share of it, and a `verify` call's execution gas (the collection
 * building the public signals plus the verifier; the intrinsic gas of its calldata taken off).
 */
async function measureGas(name: string, folder: string, ptau: string, record: string) {
  anvil ??= await startAnvil({ args: ['--hardfork', 'cancun'] })
  const chainEnv = (key: number) => ({ IMO_PRIVATE_KEY: anvil!.accounts[key]!.privateKey, IMO_RPC_URL: anvil!.rpcUrl })
  const deploymentFile = join(scratch, `${name}-deployment.json`)
  const deployArgs = ['deploy', '--model', folder, '--proof-scheme', 'zk', '--name', name, '--symbol', 'ZK', '--supply', '1000']
  const deployed = JSON.parse(
    check(
      'imo deploy --proof-scheme zk',
      await imo(
        [...deployArgs, '--ptau', ptau, '--insecure-ptau', '--deployment', deploymentFile, '--yes', '--json'],
        chainEnv(0),
      ),
    ).stdout,
  )
  const collection = deployed.aigcCollection.address as Hex
  const verifier = deployed.zkVerifier.address as Hex
  // Minted by an account that is neither the deployer nor the recipient: no attester is involved.
  const minted = check('imo mint', await imo(['mint', record, '--deployment', deploymentFile, '--json'], chainEnv(3)))
  const outcome = JSON.parse(minted.stdout).outcomes[0] as { txHash: Hex; status: string }
  if (outcome.status !== 'minted') throw new Error(`imo mint: ${outcome.status}`)
  const client = createPublicClient({ transport: http(anvil.rpcUrl) })
  const receipt = await client.getTransactionReceipt({ hash: outcome.txHash })
  const traced = (await client.request({
    method: 'debug_traceTransaction' as never,
    params: [outcome.txHash, { tracer: 'callTracer' }] as never,
  })) as CallFrame
  const proofFile = JSON.parse(readFileSync(join(record, 'proof.json'), 'utf8')) as ZkProofFile
  const aigcData = readFileSync(join(record, 'image.bmp'))
  const args = [
    toHex(new TextEncoder().encode(prompt)),
    toHex(aigcData),
    encodeZkProof(proofFile.recipient, proofWords(proofFile.proof)),
  ] as const
  const data = encodeFunctionData({ abi: zkAigcCollectionAbi, functionName: 'verify', args })
  if (!(await client.readContract({ address: collection, abi: zkAigcCollectionAbi, functionName: 'verify', args })))
    throw new Error('the deployed collection rejects the proof')
  const call = (await client.request({
    method: 'debug_traceCall' as never,
    params: [{ to: collection, data, gas: toHex(10_000_000) }, 'latest', { tracer: 'callTracer' }] as never,
  })) as CallFrame
  return {
    mintGas: receipt.gasUsed,
    mintVerifierGas: verifierGas(traced, verifier),
    verifyGas: BigInt(call.gasUsed) - intrinsicGas(data),
    verifierGas: verifierGas(call, verifier),
    aigcDataBytes: aigcData.length,
  }
}

async function bench(name: string): Promise<void> {
  console.log(`\n${name}: preparing (circuit and keys on first use) ...`)
  const { folder, ptau } = await prepare(name)
  const recipient = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8'
  const p = await measureProving(folder, ptau, recipient, name)
  const zk = await readZkModel(folder)
  const paths = artifactPaths(zkCacheDir(zk.modelHash))
  const circuit = JSON.parse(readFileSync(paths.circuitJson, 'utf8')) as ZkCircuitInfo
  const setup = JSON.parse(readFileSync(paths.setupJson, 'utf8')) as ZkSetupInfo
  const c = circuit.constraints
  console.log(
    `${name}: ${zk.graph.output.dims.join('x')} output; ${c.nonLinear} non-linear + ${c.linear} linear R1CS constraints; ${setup.plonkConstraints} PLONK gates, a 2^${setup.power} domain`,
  )
  const bareMs = p.bareWitness.wallMs + p.bareProve.wallMs
  const bareRss = Math.max(p.bareWitness.maxRssKiB ?? 0, p.bareProve.maxRssKiB ?? 0) || undefined
  console.log(
    `  snarkjs CLI   wall ${seconds(bareMs)} (wtns calculate ${seconds(p.bareWitness.wallMs)} + plonk prove ${seconds(p.bareProve.wallMs)}), peak RSS ${mib(bareRss)}`,
  )
  console.log(
    `  imo --prove   wall ${seconds(p.imo.wallMs)} (proving ${seconds(p.reported.proveMs)}, witness ${seconds(p.reported.witnessMs)}), peak RSS ${mib(p.imo.maxRssKiB)} (imo reports ${mib(p.reported.peakRssBytes / 1024)})`,
  )
  const ratio = p.imo.wallMs / bareMs
  console.log(`  imo / snarkjs wall time: ${ratio.toFixed(3)} (target <= 1.10) ${ratio <= 1.1 ? 'OK' : 'ABOVE TARGET'}`)
  const gas = await measureGas(name, folder, ptau, join(scratch, name))
  const ok = gas.verifyGas <= BigInt(VERIFY_GAS_TARGET)
  console.log(
    `  gas: verify() ${gas.verifyGas} of which the PLONK verifier ${gas.verifierGas} (target <= ${VERIFY_GAS_TARGET}) ${ok ? 'OK' : 'ABOVE TARGET'}`,
  )
  console.log(
    `  gas: mint transaction ${gas.mintGas} in all (the verifier ${gas.mintVerifierGas}; aigcData ${gas.aigcDataBytes} bytes)`,
  )
  // Wall times on a shared machine move with its load: say how loaded it was.
  console.log(
    `  load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} on ${availableParallelism()} cores`,
  )
}

const chosen = process.argv.slice(2)
try {
  for (const name of chosen.length > 0 ? chosen : ['zkcppn', 'mlp']) {
    if (name !== 'zkcppn' && name !== 'mlp') throw new Error(`unknown model ${name}: zkcppn or mlp`)
    await bench(name)
  }
} finally {
  await anvil?.stop()
}
