/**
 * The header of a `.npy` file is a Python literal (`{'descr': '<f4', 'fortran_order': False,
 * 'shape': (2, 3), }`), which NumPy reads with `ast.literal_eval`. This is a small parser for the
 * part of that grammar a header uses: a dict of string keys; string, True/False/None, integer,
 * tuple and list values. Duplicate keys, unknown keys and anything else are refused, so no text
 * inside a string can pass for a key (a regular expression could be fooled that way).
 */

/** A value a header holds. */
export type PyValue = string | number | boolean | null | PyValue[] | { tuple: PyValue[] }

/** The three keys NumPy writes, checked. */
export interface NpyHeader {
  descr: string
  fortranOrder: boolean
  shape: number[]
}

class HeaderError extends Error {}

class Parser {
  pos = 0
  constructor(private readonly text: string) {}

  fail(reason: string): never {
    throw new HeaderError(`${reason} at character ${this.pos}`)
  }

  space(): void {
    while (this.pos < this.text.length && ' \t\n\r'.includes(this.text[this.pos]!)) this.pos++
  }

  peek(): string | undefined {
    this.space()
    return this.text[this.pos]
  }

  eat(char: string): boolean {
    if (this.peek() !== char) return false
    this.pos++
    return true
  }

  value(depth: number): PyValue {
    if (depth > 8) this.fail('nested too deeply')
    const char = this.peek()
    if (char === "'" || char === '"') return this.string()
    if (char === '(' || char === '[') {
      this.pos++
      const items = this.items(char === '(' ? ')' : ']', depth)
      if (char === '[') return items.values
      // `(5)` is the number 5 in Python; a one-element tuple needs its comma: `(5,)`.
      return items.values.length === 1 && !items.comma ? items.values[0]! : { tuple: items.values }
    }
    if (char !== undefined && /[-0-9]/.test(char)) return this.integer()
    for (const [word, value] of [
      ['True', true],
      ['False', false],
      ['None', null],
    ] as const) {
      if (this.text.startsWith(word, this.pos) && !/[A-Za-z0-9_]/.test(this.text[this.pos + word.length] ?? '')) {
        this.pos += word.length
        return value
      }
    }
    return this.fail('expected a string, a number, True, False, None, a tuple or a list')
  }

  /** Comma-separated values up to `close`, a trailing comma allowed; tells whether a comma was seen. */
  items(close: string, depth: number): { values: PyValue[]; comma: boolean } {
    const values: PyValue[] = []
    let comma = false
    while (!this.eat(close)) {
      if (values.length > 0 && !comma) this.fail(`expected ',' or '${close}'`)
      values.push(this.value(depth + 1))
      comma = this.eat(',')
    }
    return { values, comma }
  }

  string(): string {
    const quote = this.text[this.pos++]!
    let out = ''
    for (;;) {
      const char = this.text[this.pos++]
      if (char === undefined || char === '\n') this.fail('unterminated string')
      if (char === quote) return out
      if (char === '\\') {
        const next = this.text[this.pos++]
        if (next === '\\' || next === "'" || next === '"') out += next
        else this.fail('unsupported escape in a string')
      } else out += char
    }
  }

  integer(): number {
    const match = /^-?\d+L?/.exec(this.text.slice(this.pos))
    if (!match) return this.fail('expected a number')
    this.pos += match[0].length
    const value = Number(match[0].replace(/L$/, ''))
    if (!Number.isSafeInteger(value)) this.fail('integer too large')
    return value
  }

  dict(): Map<string, PyValue> {
    if (!this.eat('{')) this.fail("expected '{'")
    const entries = new Map<string, PyValue>()
    let first = true
    while (!this.eat('}')) {
      if (!first && !this.eat(',')) this.fail("expected ',' or '}'")
      first = false
      if (this.eat('}')) break
      const quote = this.peek()
      if (quote !== "'" && quote !== '"') this.fail('a key must be a string')
      const key = this.string()
      if (entries.has(key)) this.fail(`duplicate key '${key}'`)
      if (!this.eat(':')) this.fail("expected ':'")
      entries.set(key, this.value(1))
    }
    this.space()
    if (this.pos !== this.text.length) this.fail('text after the dict')
    return entries
  }
}

/**
 * Parses and checks a `.npy` header.
 * @param text - the header text (without the magic, version and length).
 * @returns descr, fortran order and shape.
 * @throws Error with the reason when the header is not the dict NumPy writes.
 * @example
 * import { parseNpyHeader } from './tensor/parseNpyHeader.js'
 * parseNpyHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }")
 * // { descr: '<f4', fortranOrder: false, shape: [2, 3] }
 */
export function parseNpyHeader(text: string): NpyHeader {
  let entries: Map<string, PyValue>
  try {
    entries = new Parser(text).dict()
  } catch (error) {
    if (error instanceof HeaderError) throw new Error(`its header is not a Python dict literal: ${error.message}`)
    throw error
  }
  const keys = [...entries.keys()].sort().join(', ')
  if (keys !== 'descr, fortran_order, shape')
    throw new Error(`its header must hold exactly 'descr', 'fortran_order' and 'shape' (it holds: ${keys || 'nothing'})`)
  const descr = entries.get('descr')
  if (typeof descr !== 'string') throw new Error("its 'descr' is not a simple dtype string (structured arrays are not supported)")
  const fortran = entries.get('fortran_order')
  if (typeof fortran !== 'boolean') throw new Error("its 'fortran_order' is not True or False")
  const shape = entries.get('shape')
  if (shape === null || typeof shape !== 'object' || Array.isArray(shape)) throw new Error("its 'shape' is not a tuple")
  const dims = shape.tuple.map((dim) => {
    if (typeof dim !== 'number' || dim < 0) throw new Error("its 'shape' holds something other than whole numbers >= 0")
    return dim
  })
  return { descr, fortranOrder: fortran, shape: dims }
}
