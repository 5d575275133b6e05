/**
 * The quota guard of one group: how far a scale-out may go within the room the
 * global quotas leave. A quota only ever caps growth — a group never loses
 * capacity it already has because of a quota, even when the fleet is over it.
 */
import type { Size } from '../../spec/schema.ts'
import type { QuotaRoom } from '../types.ts'

/** The capped count and, when capped, which quota bound it. */
export interface QuotaCap {
  readonly replicas: number
  readonly detail?: string
}

/** Whole instances of `size` that fit in `room`; Infinity when the room is unlimited. Negative room is 0. */
export function instancesThatFit(room: QuotaRoom, size: Size): { count: number; binding?: string } {
  let count = Number.POSITIVE_INFINITY
  let binding: string | undefined
  const consider = (fit: number, text: string) => {
    const n = Math.max(0, fit)
    if (n < count) {
      count = n
      binding = text
    }
  }
  // 1e-9 absorbs floating-point noise such as 0.3 / 0.1 = 2.9999999999999996.
  if (room.instances !== undefined) consider(Math.floor(room.instances), `instances: ${Math.max(0, room.instances)} left`)
  if (room.cpu !== undefined) consider(Math.floor(room.cpu / size.cpu + 1e-9), `cpu: ${round(Math.max(0, room.cpu))} cores left, ${size.cpu} per instance`)
  if (room.memoryMiB !== undefined) {
    consider(Math.floor(room.memoryMiB / size.memoryMiB + 1e-9), `memory: ${Math.max(0, room.memoryMiB)} MiB left, ${size.memoryMiB} MiB per instance`)
  }
  return binding === undefined ? { count } : { count, binding }
}

function round(v: number): number {
  return Math.round(v * 100) / 100
}

/** Caps a scale-out from `currentReplicas` to `wantedReplicas` by the room left (see the module comment). */
export function capByQuota(currentReplicas: number, wantedReplicas: number, room: QuotaRoom | undefined, size: Size): QuotaCap {
  if (room === undefined || wantedReplicas <= currentReplicas) return { replicas: wantedReplicas }
  const fit = instancesThatFit(room, size)
  const cap = currentReplicas + fit.count
  if (wantedReplicas <= cap) return { replicas: wantedReplicas }
  return { replicas: cap, detail: `capped by quota (${fit.binding ?? 'no room'})` }
}
