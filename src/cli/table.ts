/**
 * Plain aligned tables for human output (stdout): columns padded to their widest cell, numbers
 * right-aligned when asked. No borders and no colour codes in the layout, so the text stays
 * copyable and greppable; colour a whole line afterwards if needed. Every cell is escaped
 * (escapeControl): cells hold prompts, names and texts from the chain or Redis, and one cell must
 * stay one cell on one line.
 */
import { escapeControl } from './escapeControl.js'

export type Align = 'left' | 'right'

export interface TableOptions {
  /** Column titles, printed above the rows. */
  header?: string[]
  /** Alignment per column (default left). */
  align?: Align[]
  /** Prefix of every line (default two spaces). */
  indent?: string
  /** Spaces between columns (default 2). */
  gap?: number
}

/** Visible width of a cell: code points, ignoring ANSI colour sequences. */
function width(text: string): number {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escape sequences
  return [...text.replace(/\u001b\[[0-9;]*m/g, '')].length
}

function pad(text: string, size: number, align: Align): string {
  const fill = ' '.repeat(Math.max(0, size - width(text)))
  return align === 'right' ? fill + text : text + fill
}

/**
 * Renders rows as an aligned table (trailing spaces trimmed).
 * @param rows - cells per row; missing cells are empty.
 * @param options - header, alignment per column, indent, gap.
 * @returns the lines joined with '\n' ('' for no rows and no header).
 * @example
 * import { renderTable } from './table.js'
 * renderTable([['1', '0.5 ETH'], ['12', '1.25 ETH']], { header: ['snapshot', 'amount'], align: ['right', 'right'] })
 * // '  snapshot    amount\n         1   0.5 ETH\n        12  1.25 ETH'
 */
export function renderTable(rows: string[][], options: TableOptions = {}): string {
  const indent = options.indent ?? '  '
  const gap = ' '.repeat(options.gap ?? 2)
  const all = (options.header ? [options.header, ...rows] : rows).map((row) => row.map((cell) => escapeControl(cell)))
  if (all.length === 0) return ''
  const columns = Math.max(...all.map((row) => row.length))
  const widths = Array.from({ length: columns }, (_, column) => Math.max(...all.map((row) => width(row[column] ?? ''))))
  return all
    .map((row) =>
      (
        indent + widths.map((size, column) => pad(row[column] ?? '', size, options.align?.[column] ?? 'left')).join(gap)
      ).trimEnd(),
    )
    .join('\n')
}

/**
 * Renders label/value pairs with the values aligned (a two-column table without header).
 * Pairs whose value is undefined are left out.
 * @param pairs - [label, value] pairs.
 * @param options - indent and gap.
 * @returns the lines joined with '\n'.
 * @example
 * import { renderFields } from './table.js'
 * renderFields([['supply', '1000 PAT'], ['holders', '3']])
 * // '  supply   1000 PAT\n  holders  3'
 */
export function renderFields(
  pairs: Array<[string, string | undefined]>,
  options: Pick<TableOptions, 'indent' | 'gap'> = {},
): string {
  return renderTable(
    pairs.filter((pair): pair is [string, string] => pair[1] !== undefined),
    options,
  )
}
