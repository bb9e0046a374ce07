/**
 * Protocol Buffers wire format, by hand: a writer that builds messages field by field, and a reader
 * that walks fields over any random-access byte source, so a multi-gigabyte .onnx file can be read
 * without loading its tensor data (length-delimited fields that are not needed are skipped by
 * moving the cursor, never copied). Only what ONNX needs: varint, 64-bit, length-delimited, 32-bit.
 */

/** Wire types of the protobuf encoding (3 and 4, the deprecated groups, are rejected). */
export const WireType = { Varint: 0, Fixed64: 1, LengthDelimited: 2, Fixed32: 5 } as const
export type WireType = (typeof WireType)[keyof typeof WireType]

const utf8 = new TextEncoder()
const utf8Decoder = new TextDecoder('utf-8', { fatal: false })

/**
 * Builds one protobuf message. Nested messages are encoded first and added as bytes.
 * @example
 * import { ProtoWriter } from './wire.js'
 * const bytes = new ProtoWriter().int(1, 8).string(2, 'imo').finish()
 */
export class ProtoWriter {
  private readonly chunks: Uint8Array[] = []
  private scratch: number[] = []
  private size = 0

  private flushScratch(): void {
    if (this.scratch.length === 0) return
    const bytes = Uint8Array.from(this.scratch)
    this.chunks.push(bytes)
    this.size += bytes.length
    this.scratch = []
  }

  private varint(value: number | bigint): void {
    let v = typeof value === 'bigint' ? BigInt.asUintN(64, value) : undefined
    if (v === undefined) {
      const n = value as number
      if (!Number.isInteger(n)) throw new RangeError(`not an integer: ${n}`)
      if (n >= 0 && n <= 0x7fffffff) {
        let x = n
        while (x > 0x7f) {
          this.scratch.push((x & 0x7f) | 0x80)
          x >>>= 7
        }
        this.scratch.push(x)
        return
      }
      v = BigInt.asUintN(64, BigInt(n))
    }
    while (v > 0x7fn) {
      this.scratch.push(Number(v & 0x7fn) | 0x80)
      v >>= 7n
    }
    this.scratch.push(Number(v))
  }

  private tag(field: number, wireType: WireType): void {
    this.varint(field * 8 + wireType)
  }

  /** An int32/int64/uint64/enum field (negative values as 10-byte two's complement). */
  int(field: number, value: number | bigint): this {
    this.tag(field, WireType.Varint)
    this.varint(value)
    return this
  }

  /** A `float` field (fixed 32-bit IEEE 754, little-endian). */
  float(field: number, value: number): this {
    this.tag(field, WireType.Fixed32)
    const bytes = new Uint8Array(4)
    new DataView(bytes.buffer).setFloat32(0, value, true)
    for (const b of bytes) this.scratch.push(b)
    return this
  }

  /** A length-delimited field holding raw bytes (or an already encoded message). */
  bytes(field: number, value: Uint8Array): this {
    this.tag(field, WireType.LengthDelimited)
    this.varint(value.length)
    if (value.length < 64) {
      for (const b of value) this.scratch.push(b)
    } else {
      this.flushScratch()
      this.chunks.push(value)
      this.size += value.length
    }
    return this
  }

  /** A `string` field, UTF-8. */
  string(field: number, value: string): this {
    return this.bytes(field, utf8.encode(value))
  }

  /** An embedded message field. */
  message(field: number, value: ProtoWriter | Uint8Array): this {
    return this.bytes(field, value instanceof ProtoWriter ? value.finish() : value)
  }

  /** The encoded message. */
  finish(): Uint8Array {
    this.flushScratch()
    if (this.chunks.length === 1) return this.chunks[0]!
    const out = new Uint8Array(this.size)
    let at = 0
    for (const chunk of this.chunks) {
      out.set(chunk, at)
      at += chunk.length
    }
    return out
  }
}

/** Random access to the bytes of a message: an in-memory buffer or a file read with positioned reads. */
export interface ByteSource {
  readonly size: number
  /** Copies `length` bytes at `offset` into `target` at `targetOffset`; returns the count copied. */
  read(target: Uint8Array, targetOffset: number, length: number, offset: number): number
}

/** A ByteSource over bytes held in memory. */
export function memorySource(bytes: Uint8Array): ByteSource {
  return {
    size: bytes.length,
    read(target, targetOffset, length, offset) {
      const n = Math.max(0, Math.min(length, bytes.length - offset))
      target.set(bytes.subarray(offset, offset + n), targetOffset)
      return n
    },
  }
}

/** Why a byte sequence is not a valid protobuf message (the caller adds the file name). */
export class WireFormatError extends Error {
  override name = 'WireFormatError'
}

/** One field's key: its number and wire type, read by {@link ProtoReader.next}. */
export interface FieldKey {
  field: number
  wireType: WireType
}

/**
 * Reads fields of nested messages from a ByteSource through a small window, so only the fields a
 * caller asks for are ever copied. `end` bounds the current message; {@link ProtoReader.enter}
 * returns the end of an embedded message to parse it in place.
 * @example
 * import { ProtoReader, memorySource } from './wire.js'
 * const r = new ProtoReader(memorySource(bytes))
 * for (let key = r.next(r.size); key; key = r.next(r.size)) if (key.field === 1) r.varint(); else r.skip(key.wireType)
 */
export class ProtoReader {
  pos = 0
  private window: Uint8Array
  private windowStart = 0
  private windowEnd = 0

  constructor(
    private readonly source: ByteSource,
    windowSize = 64 * 1024,
  ) {
    this.window = new Uint8Array(Math.max(16, Math.min(windowSize, source.size)))
  }

  get size(): number {
    return this.source.size
  }

  private fill(at: number, need: number): void {
    if (need > this.window.length) this.window = new Uint8Array(need)
    const length = Math.min(this.window.length, this.source.size - at)
    let got = 0
    while (got < length) {
      const n = this.source.read(this.window, got, length - got, at + got)
      if (n <= 0) break
      got += n
    }
    this.windowStart = at
    this.windowEnd = at + got
  }

  private byte(end: number): number {
    if (this.pos >= end) throw new WireFormatError(`truncated protobuf at byte ${this.pos}`)
    if (this.pos < this.windowStart || this.pos >= this.windowEnd) {
      this.fill(this.pos, 1)
      if (this.pos >= this.windowEnd) throw new WireFormatError(`truncated protobuf at byte ${this.pos}`)
    }
    const b = this.window[this.pos - this.windowStart]!
    this.pos++
    return b
  }

  /** Reads a varint as a bigint (up to 64 bits). */
  varintBig(end = this.size): bigint {
    let result = 0n
    let shift = 0n
    for (let i = 0; i < 10; i++) {
      const b = this.byte(end)
      result |= BigInt(b & 0x7f) << shift
      if ((b & 0x80) === 0) return BigInt.asUintN(64, result)
      shift += 7n
    }
    throw new WireFormatError(`varint longer than 10 bytes at byte ${this.pos}`)
  }

  /** Reads a varint as a number; throws when it exceeds 2^53 - 1 (lengths, tags, enums, small ints). */
  varint(end = this.size): number {
    const start = this.pos
    let result = 0
    let factor = 1
    for (let i = 0; i < 10; i++) {
      const b = this.byte(end)
      result += (b & 0x7f) * factor
      if ((b & 0x80) === 0) {
        if (result > Number.MAX_SAFE_INTEGER) {
          this.pos = start
          const big = BigInt.asIntN(64, this.varintBig(end))
          if (big < BigInt(Number.MIN_SAFE_INTEGER) || big > BigInt(Number.MAX_SAFE_INTEGER))
            throw new WireFormatError(`integer out of range at byte ${start}`)
          return Number(big)
        }
        return result
      }
      factor *= 128
    }
    throw new WireFormatError(`varint longer than 10 bytes at byte ${this.pos}`)
  }

  /** Reads a signed int64 varint as a number when safe, else a bigint. */
  int64(end = this.size): number | bigint {
    const v = BigInt.asIntN(64, this.varintBig(end))
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v
  }

  /** The next field's key, or undefined at `end`. */
  next(end: number): FieldKey | undefined {
    if (this.pos >= end) return undefined
    const at = this.pos
    const key = this.varint(end)
    const wireType = key & 7
    const field = Math.floor(key / 8)
    if (field === 0) throw new WireFormatError(`invalid field number 0 at byte ${at}`)
    if (wireType !== 0 && wireType !== 1 && wireType !== 2 && wireType !== 5)
      throw new WireFormatError(`invalid wire type ${wireType} at byte ${at}`)
    return { field, wireType: wireType as WireType }
  }

  /** Reads a length prefix and returns the end offset of the value, checked against `end`. */
  enter(end: number): number {
    const at = this.pos
    const length = this.varint(end)
    const valueEnd = this.pos + length
    if (valueEnd > end) throw new WireFormatError(`truncated protobuf: length ${length} at byte ${at} runs past the end`)
    return valueEnd
  }

  /** Reads a length-delimited value's bytes (copied). */
  bytes(end: number): Uint8Array {
    const valueEnd = this.enter(end)
    const length = valueEnd - this.pos
    const out = new Uint8Array(length)
    if (this.pos >= this.windowStart && valueEnd <= this.windowEnd) {
      out.set(this.window.subarray(this.pos - this.windowStart, valueEnd - this.windowStart))
    } else {
      let got = 0
      while (got < length) {
        const n = this.source.read(out, got, length - got, this.pos + got)
        if (n <= 0) throw new WireFormatError(`truncated protobuf at byte ${this.pos + got}`)
        got += n
      }
    }
    this.pos = valueEnd
    return out
  }

  /** Reads a length-delimited value as UTF-8 text. */
  string(end: number): string {
    return utf8Decoder.decode(this.bytes(end))
  }

  /** Reads a fixed 32-bit float. */
  float(end: number): number {
    const b = new Uint8Array(4)
    for (let i = 0; i < 4; i++) b[i] = this.byte(end)
    return new DataView(b.buffer).getFloat32(0, true)
  }

  /** Skips the value of a field of the given wire type without copying it. */
  skip(wireType: WireType, end: number): void {
    switch (wireType) {
      case WireType.Varint:
        this.varintBig(end)
        return
      case WireType.Fixed64:
        this.advance(8, end)
        return
      case WireType.Fixed32:
        this.advance(4, end)
        return
      case WireType.LengthDelimited:
        this.pos = this.enter(end)
        return
    }
  }

  private advance(n: number, end: number): void {
    if (this.pos + n > end) throw new WireFormatError(`truncated protobuf at byte ${this.pos}`)
    this.pos += n
  }

  /**
   * Reads a repeated integer field that may be packed (one length-delimited run) or not (one
   * varint per occurrence), calling `add` for each value.
   */
  repeatedInt64(wireType: WireType, end: number, add: (value: number | bigint) => void): void {
    if (wireType === WireType.Varint) {
      add(this.int64(end))
      return
    }
    if (wireType !== WireType.LengthDelimited) throw new WireFormatError(`unexpected wire type ${wireType} at byte ${this.pos}`)
    const valueEnd = this.enter(end)
    while (this.pos < valueEnd) add(this.int64(valueEnd))
  }

  /** Reads a repeated float field, packed or not. */
  repeatedFloat(wireType: WireType, end: number, add: (value: number) => void): void {
    if (wireType === WireType.Fixed32) {
      add(this.float(end))
      return
    }
    if (wireType !== WireType.LengthDelimited) throw new WireFormatError(`unexpected wire type ${wireType} at byte ${this.pos}`)
    const valueEnd = this.enter(end)
    while (this.pos < valueEnd) add(this.float(valueEnd))
  }

  /** Throws unless the field has the expected wire type. */
  expect(key: FieldKey, wireType: WireType): void {
    if (key.wireType !== wireType)
      throw new WireFormatError(`field ${key.field} has wire type ${key.wireType}, expected ${wireType} (byte ${this.pos})`)
  }
}
