// Benchmark of zk proofs on the bundled zk model models/zkcppn (not a test; run `npm run build` first):
//   npx tsx bench/zk.ts
// imo: `imo infer --prove` as a user runs it (a child process: hash the model, run it with onnxruntime,
// write the record, compute the witness with the circuit's wasm, check it against the inference, PLONK
// prove, write proof.json), its wall time, peak RSS (GNU time, else the process's maxRSS) and the
// proving time it reports. Baseline, measured in the same run on the same circuit, keys and input:
// snarkjs's own CLI, `snarkjs wtns calculate` then `snarkjs plonk prove`, as two child processes (their
// wall times summed, the larger peak RSS). Keys come from an insecure test ptau (2^15) made once in
// imo's zk cache (IMO_ZK_CACHE, default ~/.cache/imo/zk); the warm-up run makes the circuit and keys.
// Target: imo's wall time <= 1.10 x the baseline's.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { availableParallelism, loadavg, tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { hashField, promptField } from '../src/zk/publicSignals.js'
import { readZkModel } from '../src/zk/readZkModel.js'
import { cachedInsecurePtau } from '../src/zk/writeInsecurePtau.js'
import { artifactPaths, zkCacheDir } from '../src/zk/zkArtifacts.js'
import { type Run, runOnce } from './lib/measure.js'

const repo = fileURLToPath(new URL('..', import.meta.url))
const model = join(repo, 'models', 'zkcppn')
const prompt = 'a red spiral'
const recipient = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8'
const scratch = mkdtempSync(join(tmpdir(), 'imo-bench-zk-'))
process.once('exit', () => rmSync(scratch, { recursive: true, force: true }))
const env = { ...process.env, CI: 'true', NO_COLOR: '1' }
const mib = (kib: number | undefined) => (kib === undefined ? 'n/a' : `${(kib / 1024).toFixed(0)} MiB`)
const check = (label: string, run: Run) => {
  if (run.code !== 0) throw new Error(`${label} exited ${run.code}: ${run.stderr.trim()}`)
  return run
}
const imoArgs = (out: string, extra: string[] = []) => [
  join(repo, 'bin', 'imo.cjs'),
  'infer',
  '--model',
  model,
  '--prompt',
  prompt,
  '--out',
  join(scratch, out),
  '--prove',
  '--to',
  recipient,
  '--json',
  ...extra,
]

const ptau = await cachedInsecurePtau(15)
console.log('warm-up (circuit and keys on first use) ...')
check('warm-up', await runOnce(process.execPath, imoArgs('warm', ['--ptau', ptau, '--insecure-ptau']), { env }))

const zk = await readZkModel(model)
const paths = artifactPaths(zkCacheDir(zk.modelHash))
const input = join(scratch, 'input.json')
writeFileSync(
  input,
  JSON.stringify({
    model: hashField(zk.modelHash).toString(),
    prompt: promptField(new TextEncoder().encode(prompt)).toString(),
    recipient: BigInt(recipient).toString(),
  }),
)
const snarkjsCli = join(dirname(createRequire(join(repo, 'package.json')).resolve('snarkjs')), 'cli.cjs')
const witness = join(scratch, 'witness.wtns')
const bareWitness = check(
  'snarkjs wtns calculate',
  await runOnce(process.execPath, [snarkjsCli, 'wtns', 'calculate', paths.wasm, input, witness], { env }),
)
const bareProve = check(
  'snarkjs plonk prove',
  await runOnce(
    process.execPath,
    [snarkjsCli, 'plonk', 'prove', paths.zkey, witness, join(scratch, 'proof.json'), join(scratch, 'public.json')],
    { env },
  ),
)
const imo = check('imo infer --prove', await runOnce(process.execPath, imoArgs('timed'), { env }))
const reported = JSON.parse(imo.stdout).proof as { proveMs: number; witnessMs: number; peakRssBytes: number }
const bare = JSON.parse(readFileSync(join(scratch, 'public.json'), 'utf8')) as string[]
const ours = JSON.parse(readFileSync(join(scratch, 'timed', 'proof.json'), 'utf8')).publicSignals as string[]
if (JSON.stringify(bare) !== JSON.stringify(ours)) throw new Error('snarkjs and imo proved other public signals')

const bareMs = bareWitness.wallMs + bareProve.wallMs
const bareRss = Math.max(bareWitness.maxRssKiB ?? 0, bareProve.maxRssKiB ?? 0) || undefined
console.log(
  `zkcppn: ${zk.graph.output.dims.join('x')} output, ${JSON.parse(readFileSync(paths.setupJson, 'utf8')).plonkConstraints} PLONK gates`,
)
console.log(
  `snarkjs CLI   wall ${(bareMs / 1000).toFixed(1)} s (wtns calculate ${(bareWitness.wallMs / 1000).toFixed(1)} s + plonk prove ${(bareProve.wallMs / 1000).toFixed(1)} s), peak RSS ${mib(bareRss)}`,
)
console.log(
  `imo --prove   wall ${(imo.wallMs / 1000).toFixed(1)} s (proving ${(reported.proveMs / 1000).toFixed(1)} s, witness ${(reported.witnessMs / 1000).toFixed(1)} s), peak RSS ${mib(imo.maxRssKiB)} (imo reports ${mib(reported.peakRssBytes / 1024)})`,
)
const ratio = imo.wallMs / bareMs
console.log(`imo / snarkjs wall time: ${ratio.toFixed(2)} (target <= 1.10) ${ratio <= 1.1 ? 'OK' : 'ABOVE TARGET'}`)
// Wall times on a shared machine move with its load: say how loaded it was.
console.log(
  `load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')} on ${availableParallelism()} cores`,
)
