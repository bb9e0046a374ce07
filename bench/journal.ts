// Benchmark of the journal at scale (issue 21 item 29; not a test): start-up of a sending command's
// journal when the signer has a million settled steps, and the one-time compaction of an old journal
// that was never compacted. Each measurement runs in a fresh process; times are wall clock.
//   npx tsx bench/journal.ts [--steps 1000000] [--legacy-steps 100000] [--keep]
// Part 1 writes what compaction leaves after --steps fulfilments (a checkpoint, 100 live steps, an
// archive of settled lines with its index) and measures: opening the journal and taking the lock as every sending
// command does (openJournal + lock + reload), the first look-up of a new step id (which indexes the
// archive once), a look-up of an archived step, and a prefix query (`imo revenue deposit`'s
// listSteps). Part 2 writes --legacy-steps full records (2.3 KB each, as imo serve wrote them before
// compaction) and measures the first open (openJournal compacts it before reading it), then the next.
import { spawnSync } from 'node:child_process'
import { closeSync, existsSync, mkdirSync, openSync, rmSync, statSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { JournalArchive, type SettledRecord } from '../src/chain/journalArchive.js'

const signer = '0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266'
const collection = '0x5fbdb2315678afecb367f032d93f642f64180aa3' as const
const hex = (n: number, width = 64) => `0x${n.toString(16).padStart(width, '0')}` as const
const at = '2026-01-01T00:00:00.000Z'

function numberFlag(name: string, fallback: number): number {
  const index = process.argv.indexOf(name)
  if (index < 0) return fallback
  const value = Number(process.argv[index + 1])
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} needs a whole number`)
  return value
}
const steps = numberFlag('--steps', 1_000_000)
const legacySteps = numberFlag('--legacy-steps', 100_000)
const keep = process.argv.includes('--keep')

/** Writes lines produced by `line(i)` for i in [0, count), in 4 MiB batches. */
function writeLines(path: string, count: number, line: (i: number) => string, first = ''): void {
  const fd = openSync(path, 'w')
  try {
    let batch = first
    for (let i = 0; i < count; i++) {
      batch += line(i)
      if (batch.length > 4 << 20) {
        writeSync(fd, batch)
        batch = ''
      }
    }
    writeSync(fd, batch)
  } finally {
    closeSync(fd)
  }
}

const fulfill = (i: number) => `fulfill:${collection}:${i}`

function settled(i: number): SettledRecord {
  return {
    type: 'settled',
    id: fulfill(i),
    label: `fulfil request #${i}`,
    to: collection,
    value: '0',
    dataHash: hex(i + 7),
    nonce: i,
    hash: hex(i),
    gas: '210000',
    status: 'success',
    blockNumber: String(100 + i),
    blockHash: hex(i + 3),
    gasUsed: '180000',
    effectiveGasPrice: '1000000000',
    at,
  }
}

/** A step as imo serve journals it: intent, signed (a fulfil's raw transaction is about 1.9 KB), receipt. */
function fullStep(i: number, block: number): string {
  const id = fulfill(i)
  return [
    { type: 'intent', id, label: `fulfil request #${i}`, from: signer, to: collection, value: '0', dataHash: hex(i + 7), at },
    { type: 'signed', id, nonce: i, hash: hex(i), raw: `0x02f9${'ab'.repeat(950)}`, gas: '210000', at },
    {
      type: 'receipt',
      id,
      hash: hex(i),
      status: 'success',
      blockNumber: String(block),
      blockHash: hex(i + 3),
      gasUsed: '180000',
      effectiveGasPrice: '1000000000',
      at,
    },
  ]
    .map((record) => `${JSON.stringify(record)}\n`)
    .join('')
}

/** Runs `code` (TypeScript, with the journal modules imported) in a fresh process; returns its JSON line. */
function measure(cwd: string, code: string): Record<string, number> {
  const script = `
    import { openJournal } from './src/chain/openJournal.ts'
    import { listSteps } from './src/revenue/journalSteps.ts'
    const root = ${JSON.stringify(join(cwd, '.imo'))}
    const ms = (start) => Math.round((performance.now() - start) * 10) / 10
    const out = {}
    ${code}
    out.maxRssMiB = Math.round(process.resourceUsage().maxRSS / 1024)
    console.log(JSON.stringify(out))`
  const result = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: join(import.meta.dirname, '..'),
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  })
  if (result.status !== 0) throw new Error(result.stderr)
  return JSON.parse(result.stdout.trim().split('\n').pop()!)
}

const work = join(tmpdir(), 'imo-bench-journal')
mkdirSync(join(work, 'compacted', '.imo', 'journal', '31337'), { recursive: true })
mkdirSync(join(work, 'legacy', '.imo', 'journal', '31337'), { recursive: true })
try {
  // Part 1: a million settled steps, compacted.
  const folder = join(work, 'compacted', '.imo', 'journal', '31337')
  const archive = join(folder, `${signer}.archive.jsonl`)
  if (!existsSync(archive) || statSync(archive).size === 0) {
    // As compaction writes it: the archive and its index, in batches.
    const writer = new JournalArchive(archive)
    for (let i = 0; i < steps; i += 10_000)
      writer.append(Array.from({ length: Math.min(10_000, steps - i) }, (_, j) => settled(i + j)))
  }
  const checkpoint = `${JSON.stringify({ type: 'checkpoint', nonce: steps + 99, archived: steps, at })}\n`
  writeLines(join(folder, `${signer}.jsonl`), 100, (i) => fullStep(steps + i, 100 + steps + i), checkpoint)
  const startup = measure(
    join(work, 'compacted'),
    `
    let t = performance.now()
    const journal = openJournal(31337, '${signer}', { root }); journal.lock(); journal.reload()
    out.openMs = ms(t)
    t = performance.now(); journal.state('fulfill:${collection}:new'); out.firstNewLookupMs = ms(t)
    t = performance.now(); const old = journal.state('${fulfill(Math.floor(steps / 2))}'); out.archivedLookupMs = ms(t)
    if (old.receipt?.status !== 'success' || !old.archived) throw new Error('archived step not found')
    t = performance.now(); listSteps(journal, 'deposit:'); out.prefixQueryMs = ms(t)
    out.lastNonce = journal.lastSignedNonce()
    journal.unlock()`,
  )
  console.log(
    `${steps.toLocaleString('en')} settled steps (archive ${(statSync(archive).size / 2 ** 20).toFixed(0)} MiB, live file ${statSync(join(folder, `${signer}.jsonl`)).size} bytes):`,
  )
  console.log(`  open + lock + read the live file (every sending command's start):  ${startup.openMs} ms`)
  console.log(`  first look-up of a new step id (indexes the archive, once):        ${startup.firstNewLookupMs} ms`)
  console.log(`  look-up of an archived step:                                        ${startup.archivedLookupMs} ms`)
  console.log(`  prefix query (listSteps, e.g. revenue deposit's repeat check):      ${startup.prefixQueryMs} ms`)
  console.log(`  peak RSS:                                                           ${startup.maxRssMiB} MiB`)

  // Part 2: an old journal that was never compacted (full records), compacted once.
  const legacyFolder = join(work, 'legacy', '.imo', 'journal', '31337')
  const legacy = join(legacyFolder, `${signer}.jsonl`)
  for (const name of [`${signer}.archive.jsonl`, `${signer}.archive.idx`]) rmSync(join(legacyFolder, name), { force: true })
  writeLines(legacy, legacySteps, (i) => fullStep(i, 100 + i))
  const legacyBytes = statSync(legacy).size
  const migration = measure(
    join(work, 'legacy'),
    `
    let t = performance.now()
    const journal = openJournal(31337, '${signer}', { root })
    out.compactMs = ms(t); out.archived = journal.archivedSteps()
    t = performance.now(); const again = openJournal(31337, '${signer}', { root }); again.lock(); again.reload(); out.reopenMs = ms(t); again.unlock()`,
  )
  console.log(
    `an uncompacted journal of ${legacySteps.toLocaleString('en')} steps (${(legacyBytes / 2 ** 20).toFixed(0)} MiB), compacted once:`,
  )
  console.log(
    `  first open, which compacts it (${migration.archived} steps archived):  ${migration.compactMs} ms, peak RSS ${migration.maxRssMiB} MiB`,
  )
  console.log(`  then open + lock + read:                               ${migration.reopenMs} ms`)
} finally {
  if (!keep) rmSync(work, { recursive: true, force: true })
}
