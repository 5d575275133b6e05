/**
 * `npm run bench`: every benchmark module in the order below, each printing tables.
 * `npm run bench -- NAME…` runs only the named modules; `NAME:PART,PART` runs only those
 * parts of a module that has parts (quality: table, settings, pareto).
 * Performance is measured here, never asserted by a timed test.
 */
import { renderTable, type Table } from './table.ts'

/** A benchmark module: bench/NAME.ts exporting `run(parts?): Promise<Table[]>`; a module with parts rejects unknown ones. */
interface BenchModule {
  run(parts?: readonly string[]): Promise<Table[]>
}

const modules = ['engine', 'simulator', 'quality', 'forecast', 'router', 'reaction', 'startup', 'replay'] as const

/** Module name → the parts asked for ([] = all). */
const wanted = new Map<string, string[]>()
for (const arg of process.argv.slice(2)) {
  const [name = '', parts = ''] = arg.split(':', 2)
  wanted.set(name, [...(wanted.get(name) ?? []), ...parts.split(',').filter((p) => p !== '')])
}
/** The modules that have parts. */
const withParts: readonly string[] = ['quality']
const unknown = [...wanted.keys()].filter((w) => !(modules as readonly string[]).includes(w))
if (unknown.length > 0) {
  console.error(`bench: unknown module ${unknown.join(', ')}; known: ${modules.join(', ')}`)
  process.exit(2)
}
const partless = [...wanted].filter(([name, parts]) => parts.length > 0 && !withParts.includes(name)).map(([name]) => name)
if (partless.length > 0) {
  console.error(`bench: ${partless.join(', ')} has no parts; only ${withParts.join(', ')} has`)
  process.exit(2)
}
for (const name of modules) {
  if (wanted.size > 0 && !wanted.has(name)) continue
  const mod = (await import(`./${name}.ts`)) as BenchModule
  const started = performance.now()
  for (const table of await mod.run(wanted.get(name) ?? [])) console.log(renderTable(table))
  console.log(`(${name}: ${((performance.now() - started) / 1000).toFixed(1)} s)\n`)
}
