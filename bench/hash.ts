// Benchmark of `imo hash` against openssl and sha256sum (not a test): a 1 GiB file and a model
// folder of four 256 MiB files, generated in the temporary folder (reused when present, deleted at
// the end unless --keep), page cache warmed, best of 3 interleaved runs each, start-up included
// (`node bin/imo.cjs hash --json`). Needs a built CLI (`npm run build`).
//   npx tsx bench/hash.ts [--size-mib 1024] [--runs 3] [--keep] [--strict]
// --size-mib N sets the single file's size; the folder holds four files of N/4 MiB.
// --strict exits 1 when a target is missed.
import { randomBytes } from 'node:crypto'
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, rmSync, statSync, writeSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { bestOfInterleaved, hasGnuTime, printTable, type Row } from './lib/measure.js'

const repo = fileURLToPath(new URL('..', import.meta.url))
const imo = join(repo, 'bin', 'imo.cjs')
const MiB = 1024 * 1024

function flag(name: string): boolean {
  return process.argv.includes(name)
}

function numberFlag(name: string, fallback: number, min: number): number {
  const index = process.argv.indexOf(name)
  if (index < 0) return fallback
  const value = Number(process.argv[index + 1])
  if (!Number.isInteger(value) || value < min) throw new Error(`${name} needs a whole number of at least ${min}`)
  return value
}

const sizeMiB = numberFlag('--size-mib', 1024, 4)
const runs = numberFlag('--runs', 3, 1)
const keep = flag('--keep')
const strict = flag('--strict')

/** Writes `mib` MiB: one random 1 MiB block repeated, with a counter so every MiB differs. */
function generate(path: string, mib: number, seed: number): void {
  if (existsSync(path) && statSync(path).size === mib * MiB) return
  const block = randomBytes(MiB)
  const fd = openSync(path, 'w')
  try {
    for (let i = 0; i < mib; i++) {
      block.writeUInt32LE(seed, 0)
      block.writeUInt32LE(i, 4)
      writeSync(fd, block)
    }
  } finally {
    closeSync(fd)
  }
}

function warm(path: string): void {
  const buffer = Buffer.allocUnsafe(8 * MiB)
  const fd = openSync(path, 'r')
  while (readSync(fd, buffer, 0, buffer.length, null) > 0);
  closeSync(fd)
}

const mibps = (bytes: number, ms: number) => bytes / MiB / (ms / 1000)
const fmt = (n: number, digits = 0) => n.toFixed(digits)

if (!existsSync(join(repo, 'dist', 'cli.cjs'))) {
  console.error('dist/ is missing: run `npm run build` first')
  process.exit(1)
}

const folder = join(tmpdir(), `imo-bench-hash-${sizeMiB}`)
const single = join(folder, 'single.bin')
const model = join(folder, 'model')
const parts = [0, 1, 2, 3].map((i) => join(model, `part-${i}.bin`))
mkdirSync(model, { recursive: true })
console.error(`data in ${folder}: ${sizeMiB} MiB file, 4 x ${sizeMiB / 4} MiB folder`)
generate(single, sizeMiB, 1)
for (const [i, part] of parts.entries()) generate(part, sizeMiB / 4, 10 + i)
const partBytes = parts.map((p) => statSync(p).size)
const singleBytes = statSync(single).size
const folderBytes = partBytes.reduce((a, b) => a + b, 0)
for (const path of [single, ...parts]) warm(path)

try {
  const node = process.execPath
  console.error(
    `measuring, best of ${runs} (peak RSS via ${hasGnuTime() ? '/usr/bin/time' : 'process.resourceUsage in a --require hook'})`,
  )
  const [opensslFile, sha256sumFile, imoFile] = await bestOfInterleaved(runs, [
    { command: 'openssl', args: ['dgst', '-sha256', single] },
    { command: 'sha256sum', args: [single] },
    { command: node, args: [imo, 'hash', single, '--json'] },
  ])
  const [opensslParts, imoFolder] = await bestOfInterleaved(runs, [
    { command: 'openssl', args: ['dgst', '-sha256', ...parts] },
    { command: node, args: [imo, 'hash', model, '--json'] },
  ])
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')

  // The figures only count when the digests agree.
  const opensslDigest = opensslFile.best.stdout.trim().split('= ').at(-1)
  const imoFileJson = JSON.parse(imoFile.best.stdout) as { files: { sha256: string }[] }
  if (imoFileJson.files[0]?.sha256 !== opensslDigest) throw new Error('imo and openssl disagree on the single file')
  const partDigests = opensslParts.best.stdout
    .trim()
    .split('\n')
    .map((line) => line.split('= ').at(-1))
  const imoFolderJson = JSON.parse(imoFolder.best.stdout) as { files: { sha256: string }[] }
  if (imoFolderJson.files.map((f) => f.sha256).join() !== partDigests.join())
    throw new Error('imo and openssl disagree on the folder')

  const fileRate = mibps(singleBytes, imoFile.best.wallMs)
  const opensslRate = mibps(singleBytes, opensslFile.best.wallMs)
  const sumRate = mibps(singleBytes, sha256sumFile.best.wallMs)
  const folderRate = mibps(folderBytes, imoFolder.best.wallMs)
  const opensslPartsRate = mibps(folderBytes, opensslParts.best.wallMs)
  const rssFile = imoFile.maxRssKiB === undefined ? undefined : imoFile.maxRssKiB / 1024
  const rssFolder = imoFolder.maxRssKiB === undefined ? undefined : imoFolder.maxRssKiB / 1024

  // The same comparison as paired runs: imo's time over openssl's in each round, the median of them.
  const paired = imoFile.runs.map((run, i) => run.wallMs / opensslFile.runs[i]!.wallMs).sort((a, b) => a - b)
  const pairedRatio = paired[Math.floor(paired.length / 2)]!
  const rows: Row[] = [
    {
      figure: `${sizeMiB} MiB file: imo hash time / openssl's (paired)`,
      value: paired.map((r) => fmt(r, 2)).join(' '),
      baseline: 'openssl dgst -sha256',
      ratio: fmt(pairedRatio, 2),
      target: '<= 1.05',
      pass: pairedRatio <= 1.05,
    },
    {
      figure: `${sizeMiB} MiB file: imo hash (MiB/s)`,
      value: fmt(fileRate),
      baseline: `openssl ${fmt(opensslRate)}`,
      ratio: fmt(fileRate / opensslRate, 2),
      target: '>= 0.95',
      pass: fileRate / opensslRate >= 0.95,
    },
    {
      figure: `${sizeMiB} MiB file: sha256sum (MiB/s)`,
      value: fmt(sumRate),
      baseline: `openssl ${fmt(opensslRate)}`,
      ratio: fmt(sumRate / opensslRate, 2),
      target: '(info)',
      pass: undefined,
    },
    {
      figure: `4 x ${sizeMiB / 4} MiB folder: imo hash (MiB/s)`,
      value: fmt(folderRate),
      baseline: `openssl seq ${fmt(opensslPartsRate)}`,
      ratio: fmt(folderRate / opensslPartsRate, 2),
      target: '>= 1.40',
      pass: folderRate / opensslPartsRate >= 1.4,
    },
    {
      figure: 'peak RSS imo hash file (MB)',
      value: rssFile === undefined ? 'n/a' : fmt(rssFile),
      baseline: '-',
      ratio: '-',
      target: '< 150',
      pass: rssFile === undefined ? undefined : rssFile < 150,
    },
    {
      figure: 'peak RSS imo hash folder (MB)',
      value: rssFolder === undefined ? 'n/a' : fmt(rssFolder),
      baseline: '-',
      ratio: '-',
      target: '< 150',
      pass: rssFolder === undefined ? undefined : rssFolder < 150,
    },
  ]
  console.log(`load average during the run: ${load} (on ${availableParallelism()} CPUs; figures are noisy when it exceeds ~0.5)`)
  console.log(
    `wall times (best of ${runs}, interleaved): openssl ${fmt(opensslFile.best.wallMs)} ms, sha256sum ${fmt(sha256sumFile.best.wallMs)} ms, ` +
      `imo ${fmt(imoFile.best.wallMs)} ms; folder: openssl ${fmt(opensslParts.best.wallMs)} ms, imo ${fmt(imoFolder.best.wallMs)} ms`,
  )
  const ok = printTable(rows)
  if (strict && !ok) process.exitCode = 1
} finally {
  if (!keep) rmSync(folder, { recursive: true, force: true })
}
