/**
 * Where a group's data-plane process (data-plane.ts) is found: a record in the state directory
 * (`<stateDir>/dataplane/<group>.json`: pid, the process's start time, its control socket, its
 * listen address, the hash of the config it serves), written by the data plane once it listens,
 * removed when it stops. A restarted tide reads it to find and re-attach the data plane; `tide up`
 * and `tide status` read it to show a data plane nobody attends.
 */
import { createHash } from 'node:crypto'
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { z } from 'zod'
import { isSameLiveProcess } from '../core/proc-stat.ts'
import type { HealthSpec, RoutingSpec } from '../spec/schema.ts'

/**
 * The version of the control channel's messages (data-plane.ts). Part of the config hash, so a
 * tide whose messages differ replaces the data plane instead of talking past it.
 */
export const DATA_PLANE_PROTOCOL = 1

/** The folder of the records, sockets and logs of data planes in a state directory. */
export function dataPlaneDir(stateDir: string): string {
  return join(stateDir, 'dataplane')
}

/** The record of a group's data plane. */
export function recordPath(stateDir: string, group: string): string {
  return join(dataPlaneDir(stateDir), `${group}.json`)
}

/** The data plane's own log (it writes there: it has no terminal). */
export function logPath(stateDir: string, group: string): string {
  return join(dataPlaneDir(stateDir), `${group}.log`)
}

/**
 * The control socket of a group's data plane: in the state directory, or, when that path would
 * pass the 107 bytes a unix socket address holds, in the temp directory under a name hashed from
 * it (the record says which).
 */
export function socketPath(stateDir: string, group: string): string {
  const path = join(dataPlaneDir(stateDir), `${group}.sock`)
  if (Buffer.byteLength(path) <= 100) return path
  return join(tmpdir(), `tide-dp-${createHash('sha256').update(path).digest('hex').slice(0, 16)}.sock`)
}

/**
 * The hash of what a data plane is built from: the group's routing and health sections, its
 * core count and the protocol version. A data plane whose hash differs from the config's is
 * replaced (data-plane-client.ts); a restarted tide with the same config adopts it.
 */
export function configHash(routing: RoutingSpec, health: HealthSpec, cores: number): string {
  return createHash('sha256').update(JSON.stringify({ v: DATA_PLANE_PROTOCOL, routing, health, cores })).digest('hex').slice(0, 16)
}

const RecordSchema = z.object({
  group: z.string(),
  pid: z.number().int().positive(),
  /** /proc/<pid>/stat's start time (clock ticks since boot): tells this process from a later one with its pid. */
  startTime: z.string().min(1),
  socket: z.string().min(1),
  host: z.string(),
  /** The port it listens on (routing.listen, or the one chosen for 0); 0 while it is starting (the record tide writes at spawn). */
  port: z.number().int().min(0).max(65535),
  proxy: z.enum(['tide', 'haproxy']),
  configHash: z.string(),
  /** When it started listening, epoch ms. */
  startedAtMs: z.number(),
})

/** A data plane as its record describes it. */
export type DataPlaneRecord = z.infer<typeof RecordSchema>

/** Writes the record atomically (a rename), mode 0600, creating the folder (0700). */
export function writeRecord(stateDir: string, record: DataPlaneRecord): void {
  mkdirSync(dataPlaneDir(stateDir), { recursive: true, mode: 0o700 })
  const path = recordPath(stateDir, record.group)
  const tmp = `${path}.${process.pid}.tmp`
  writeFileSync(tmp, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 })
  renameSync(tmp, path)
}

/** The record of a group's data plane; undefined when there is none or it is unreadable (a torn or foreign file is ignored, not trusted). */
export function readRecord(stateDir: string, group: string): DataPlaneRecord | undefined {
  let text: string
  try {
    text = readFileSync(recordPath(stateDir, group), 'utf8')
  } catch {
    return undefined
  }
  try {
    const parsed = RecordSchema.safeParse(JSON.parse(text))
    return parsed.success ? parsed.data : undefined
  } catch {
    return undefined
  }
}

/** Removes a group's record, but only if it still names `pid` (a newer data plane may have written its own). */
export function removeRecord(stateDir: string, group: string, pid: number): void {
  if (readRecord(stateDir, group)?.pid !== pid) return
  rmSync(recordPath(stateDir, group), { force: true })
}

/** Whether the record's process still runs: same pid and same start time (a reused pid is another process). */
export function isAlive(record: DataPlaneRecord, procRoot = '/proc'): boolean {
  return isSameLiveProcess(record.pid, record.startTime, procRoot)
}

/** Every data-plane record of a state directory (any group), readable ones only. */
export function listRecords(stateDir: string): DataPlaneRecord[] {
  let names: string[]
  try {
    names = readdirSync(dataPlaneDir(stateDir))
  } catch {
    return []
  }
  const out: DataPlaneRecord[] = []
  for (const name of names.sort()) {
    if (!name.endsWith('.json')) continue
    const r = readRecord(stateDir, name.slice(0, -'.json'.length))
    if (r !== undefined) out.push(r)
  }
  return out
}
