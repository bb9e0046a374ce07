/**
 * The `--json` shapes of docs/json.md, read from the document itself, and the checks the shapes test
 * runs with them: a value against a shape (exact keys, so a renamed or undocumented key fails), and
 * the shared vocabulary (txHash, *Wei decimal strings, ISO 8601 UTC times, snapshot ids as numbers)
 * on both the documented shapes and the printed documents.
 *
 * A shape is JSON whose leaves are type names (see TYPES); `"key?"` marks an optional key, `"*"` a
 * map's values, `[shape]` an array of that shape, `"a|b"` either type.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { repoRoot } from './runCli.js'

export type Shape = string | Shape[] | { [key: string]: Shape }

/** What each type name of a shape accepts. */
export const TYPES: Record<string, (value: unknown) => boolean> = {
  string: (v) => typeof v === 'string',
  number: (v) => typeof v === 'number' && Number.isFinite(v),
  integer: (v) => Number.isSafeInteger(v),
  boolean: (v) => typeof v === 'boolean',
  null: (v) => v === null,
  any: () => true,
  /** 32 bytes as 0x + 64 lowercase hex digits (transaction hashes, model hashes, commitments). */
  hash: (v) => typeof v === 'string' && /^0x[0-9a-f]{64}$/.test(v),
  /** Bytes as 0x + an even number of hex digits. */
  hex: (v) => typeof v === 'string' && /^0x([0-9a-fA-F]{2})*$/.test(v),
  /** An address, EIP-55 checksummed. */
  address: (v) => typeof v === 'string' && /^0x[0-9a-fA-F]{40}$/.test(v) && /[A-F]/.test(v.slice(2)) === /[a-f]/.test(v.slice(2)),
  /** An amount in the currency's smallest unit (wei for 18 decimals) as a decimal string. */
  wei: (v) => typeof v === 'string' && /^(0|[1-9][0-9]*)$/.test(v),
  /** A non-negative integer that may exceed 2^53 (ids, block numbers, gas) as a decimal string. */
  uint: (v) => typeof v === 'string' && /^(0|[1-9][0-9]*)$/.test(v),
  /** A time: ISO 8601 in UTC with `Z`. */
  time: (v) => typeof v === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(v) && !Number.isNaN(Date.parse(v)),
}

export interface DocumentedShape {
  /** The section's name: `imo claim`, `imo serve log line`, `error`. */
  name: string
  shape: Shape
  /** The section's example documents (each is checked against the shape too). */
  examples: unknown[]
}

/**
 * Reads every `## name` section of docs/json.md with its ```shape block and ```json examples.
 * @example
 * readDocumentedShapes().get('imo hash')!.shape // { modelHash: 'hash', ... }
 */
export function readDocumentedShapes(path = join(repoRoot, 'docs', 'json.md')): Map<string, DocumentedShape> {
  const shapes = new Map<string, DocumentedShape>()
  let current: DocumentedShape | undefined
  const lines = readFileSync(path, 'utf8').split('\n')
  for (let i = 0; i < lines.length; i++) {
    const heading = /^## (.+)$/.exec(lines[i]!)
    if (heading) {
      current = undefined
      const name = heading[1]!.replaceAll('`', '').trim()
      if (/^(imo |error$)/.test(name)) {
        if (shapes.has(name)) throw new Error(`docs/json.md: two sections named ${name}`)
        current = { name, shape: '', examples: [] }
        shapes.set(name, current)
      }
      continue
    }
    const fence = /^```(shape|json)\s*$/.exec(lines[i]!)
    if (!fence || !current) continue
    const end = lines.indexOf('```', i + 1)
    if (end === -1) throw new Error(`docs/json.md: unclosed block at line ${i + 1}`)
    const text = lines.slice(i + 1, end).join('\n')
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch (error) {
      throw new Error(`docs/json.md line ${i + 2} (${current.name}): ${(error as Error).message}`)
    }
    if (fence[1] === 'shape') {
      if (current.shape !== '') throw new Error(`docs/json.md: ${current.name} has two shape blocks`)
      current.shape = parsed as Shape
    } else current.examples.push(parsed)
    i = end
  }
  for (const entry of shapes.values()) if (entry.shape === '') throw new Error(`docs/json.md: ${entry.name} has no shape block`)
  return shapes
}

/**
 * Every way `value` departs from `shape`, as `path: problem` lines (empty when it fits).
 * @example
 * checkShape({ txHash: '0x12' }, { txHash: 'hash' }) // ['$.txHash: "0x12" is not a hash']
 */
export function checkShape(value: unknown, shape: Shape, path = '$'): string[] {
  if (typeof shape === 'string') {
    const names = shape.split('|')
    for (const name of names) if (!TYPES[name]) return [`${path}: unknown type name "${name}" in the shape`]
    return names.some((name) => TYPES[name]!(value)) ? [] : [`${path}: ${JSON.stringify(value)?.slice(0, 80)} is not a ${shape}`]
  }
  if (Array.isArray(shape)) {
    if (!Array.isArray(value)) return [`${path}: expected an array, got ${JSON.stringify(value)?.slice(0, 80)}`]
    return value.flatMap((item, index) => checkShape(item, shape[0]!, `${path}[${index}]`))
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    return [`${path}: expected an object, got ${JSON.stringify(value)?.slice(0, 80)}`]
  const problems: string[] = []
  const record = value as Record<string, unknown>
  const known = new Set<string>()
  for (const [rawKey, inner] of Object.entries(shape)) {
    if (rawKey === '*') continue
    const optional = rawKey.endsWith('?')
    const key = optional ? rawKey.slice(0, -1) : rawKey
    known.add(key)
    if (!Object.hasOwn(record, key)) {
      if (!optional) problems.push(`${path}: missing key "${key}"`)
      continue
    }
    problems.push(...checkShape(record[key], inner, `${path}.${key}`))
  }
  for (const [key, inner] of Object.entries(record)) {
    if (known.has(key)) continue
    if (Object.hasOwn(shape, '*')) problems.push(...checkShape(inner, shape['*']!, `${path}.${key}`))
    else problems.push(`${path}: key "${key}" is not documented`)
  }
  return problems
}

/**
 * The shared vocabulary, by key name, for a documented shape or a printed document: one name for a
 * transaction hash, amounts only as `*Wei` decimal strings, times only as ISO strings under `*At`
 * (or `now`, `time`), snapshot ids as JSON numbers, token ids as decimal strings beside their 0x form.
 * @example
 * checkVocabulary({ hash: '0x…' }) // ['$.hash: a transaction hash is "txHash" (or "<what>TxHash")']
 */
export function checkVocabulary(document: unknown, isShape = false, path = '$'): string[] {
  const problems: string[] = []
  const typeIs = (value: unknown, type: string) =>
    isShape
      ? typeof value === 'string' && value.split('|').every((t) => t === type || t === 'null')
      : TYPES[type]!(value) || value === null
  if (Array.isArray(document)) return document.flatMap((item, i) => checkVocabulary(item, isShape, `${path}[${i}]`))
  if (document === null || typeof document !== 'object') return problems
  for (const [rawKey, value] of Object.entries(document)) {
    const key = isShape ? rawKey.replace(/\?$/, '') : rawKey
    const at = `${path}.${key}`
    if (/^(hash|tx|transactionHash|transaction)$|Tx$/.test(key))
      problems.push(`${at}: a transaction hash is "txHash" (or "<what>TxHash")`)
    if (/TxHash$|^txHash$/.test(key) && !typeIs(value, 'hash')) problems.push(`${at}: a transaction hash is a 0x hash`)
    if (
      /^(amount|fee|balance|value|previous|price|cost|payout|paid|totalSupply|tokens|sold|returned|credited|unclaimed|pendingRevenue|redemptionPool|redeemable)$/.test(
        key,
      )
    )
      problems.push(`${at}: an amount's key ends in Wei (its smallest unit)`)
    if (/Wei$/.test(key) && !typeIs(value, 'wei')) problems.push(`${at}: a *Wei amount is a decimal string`)
    if (/Timestamp$|^timestamp$|^at$/.test(key)) problems.push(`${at}: a time's key ends in At (a log line's time is "time")`)
    if ((/[a-z]At$/.test(key) || key === 'now' || key === 'time') && !typeIs(value, 'time'))
      problems.push(`${at}: a time is ISO 8601 UTC with Z`)
    if (/Time$/.test(key)) problems.push(`${at}: a time's key ends in At`)
    if (/[sS]napshotId$/.test(key) && !typeIs(value, 'integer')) problems.push(`${at}: a snapshot id is a JSON number`)
    if (key === 'tokenId' && !typeIs(value, 'uint'))
      problems.push(`${at}: a tokenId is a decimal string (tokenIdHex the 0x form)`)
    if (key === 'tokenIdHex' && !typeIs(value, 'hash')) problems.push(`${at}: a tokenIdHex is a 0x hash`)
    // An offering record is a file format of its own (docs/formats.md), echoed as written.
    if (key === 'record' && path === '$') continue
    problems.push(...checkVocabulary(value, isShape, at))
  }
  return problems
}

/**
 * A draft shape inferred from printed documents (keys missing from some are optional): a starting
 * point for a new command's section in docs/json.md, to be read and corrected by hand.
 * @example
 * inferShape([{ txHash: '0x…' }]) // { txHash: 'hash' }
 */
export function inferShape(documents: unknown[], key = ''): Shape {
  const types = new Set<string>()
  const objects: Array<Record<string, unknown>> = []
  const items: unknown[] = []
  for (const value of documents) {
    if (Array.isArray(value)) {
      types.add('array')
      items.push(...value)
    } else if (value !== null && typeof value === 'object') {
      types.add('object')
      objects.push(value as Record<string, unknown>)
    } else types.add(leafType(value, key))
  }
  if (types.has('array')) return [items.length ? inferShape(items, key) : 'any']
  if (types.has('object')) {
    const keys = [...new Set(objects.flatMap((o) => Object.keys(o)))]
    const shape: Record<string, Shape> = {}
    for (const k of keys) {
      const present = objects.filter((o) => Object.hasOwn(o, k))
      shape[present.length === objects.length ? k : `${k}?`] = inferShape(
        present.map((o) => o[k]),
        k,
      )
    }
    return types.size > 1 ? shape : shape
  }
  return [...types].sort().join('|')
}

function leafType(value: unknown, key: string): string {
  if (value === null) return 'null'
  if (typeof value === 'boolean') return 'boolean'
  if (typeof value === 'number') return Number.isSafeInteger(value) ? 'integer' : 'number'
  if (TYPES.hash!(value)) return 'hash'
  if (TYPES.address!(value)) return 'address'
  if (TYPES.time!(value)) return 'time'
  if (TYPES.uint!(value)) return /Wei$/.test(key) ? 'wei' : 'uint'
  if (typeof value === 'string' && /^0x[0-9a-fA-F]+$/.test(value) && value.length % 2 === 0) return 'hex'
  return 'string'
}
