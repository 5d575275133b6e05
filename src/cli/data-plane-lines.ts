/**
 * The data-plane processes recorded in a state directory, as `tide status --store` lists them
 * (docs/ha.md): its own module, imported only when listed, because the record's schema pulls in
 * zod, which `tide status --help` and `tide status --api` would otherwise load for nothing.
 */
import { isAlive, listRecords } from '../router/data-plane-record.ts'

/**
 * One line per data-plane process recorded in the state directory (routing.dataPlane: process,
 * docs/ha.md), so that one serving with no tide attached is seen: alive or gone, pid, address.
 */
export function dataPlaneLines(stateDir: string): string[] {
  const records = listRecords(stateDir)
  if (records.length === 0) return []
  return [
    `data planes in ${stateDir}:`,
    ...records.map((r) => `  ${r.group}: pid ${r.pid} ${isAlive(r) ? 'alive' : 'gone (a stale record)'}, ${r.proxy === 'haproxy' ? 'HAProxy' : "tide's proxy"} on ${r.host}:${r.port}${r.startedAtMs > 0 ? ` since ${new Date(r.startedAtMs).toISOString()}` : ' (starting)'}; a running tide attaches to it, else it serves on its own (log: dataplane/${r.group}.log)`),
  ]
}
