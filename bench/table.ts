/** Plain-text tables for `npm run bench`: figures beside their baselines, as ratios. */

export interface Table {
  readonly title: string
  readonly columns: readonly string[]
  readonly rows: readonly (readonly (string | number)[])[]
  /** Sentences printed under the table: goals, and honestly where they are not met. */
  readonly notes?: readonly string[]
}

/** Formats a number for a table: integers as-is, others with `digits` decimals. */
export function fmt(value: number, digits = 2): string {
  if (!Number.isFinite(value)) return String(value)
  return Number.isInteger(value) ? String(value) : value.toFixed(digits)
}

/** Renders a table as aligned text, right-aligning numeric cells. */
export function renderTable(table: Table): string {
  const cells = [table.columns, ...table.rows.map((r) => r.map((c) => (typeof c === 'number' ? fmt(c) : c)))]
  const widths = table.columns.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)))
  // Numbers (and ratios or percentages such as 1.05x, 0.3%) are right-aligned, text left-aligned.
  const line = (r: readonly string[]) => r.map((c, i) => (/^[-+]?[\d.]+[%x]?$/.test(c) ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join('  ')
  const out = [`## ${table.title}`, '', line(cells[0] ?? []), widths.map((w) => '-'.repeat(w)).join('  ')]
  for (const r of cells.slice(1)) out.push(line(r))
  if (table.notes) out.push('', ...table.notes.map((n) => `- ${n}`))
  return out.join('\n') + '\n'
}
