/**
 * `npm run bench`: every benchmark module in the order below, each printing tables.
 * `npm run bench -- NAME…` runs only the named modules.
 * Performance is measured here, never asserted by a timed test.
 */
import { renderTable, type Table } from './table.ts'

/** A benchmark module: bench/NAME.ts exporting `run(): Promise<Table[]>`. */
interface BenchModule {
  run(): Promise<Table[]>
}

const modules = ['engine', 'simulator', 'quality', 'forecast', 'router', 'reaction'] as const

const wanted = process.argv.slice(2)
const unknown = wanted.filter((w) => !(modules as readonly string[]).includes(w))
if (unknown.length > 0) {
  console.error(`bench: unknown module ${unknown.join(', ')}; known: ${modules.join(', ')}`)
  process.exit(2)
}
for (const name of modules) {
  if (wanted.length > 0 && !wanted.includes(name)) continue
  const mod = (await import(`./${name}.ts`)) as BenchModule
  const started = performance.now()
  for (const table of await mod.run()) console.log(renderTable(table))
  console.log(`(${name}: ${((performance.now() - started) / 1000).toFixed(1)} s)\n`)
}
