/**
 * decideFleet(): one tick for many groups that share global quotas (instances,
 * cpu = replicas × size.cpu, memory = replicas × size.memoryMiB), fleet-wide and
 * per provider. Groups are decided in the order given; each may grow only into the
 * room left after what every group holds now and what earlier groups were granted
 * this tick; a group that shrinks frees room for the groups after it. A quota
 * never takes capacity away (capByQuota only caps growth), and a capped
 * scale-out's reason is QuotaExhausted.
 */
import type { QuotaLimits, Size } from '../spec/schema.ts'
import { decide } from './decide.ts'
import type { DecideInput, Decision, FleetQuotas, QuotaRoom } from './types.ts'

interface Usage {
  instances: number
  cpu: number
  memoryMiB: number
}

function add(usage: Usage, replicas: number, size: Size): void {
  usage.instances += replicas
  usage.cpu += replicas * size.cpu
  usage.memoryMiB += replicas * size.memoryMiB
}

/** The room a limit leaves over a usage; undefined fields are unlimited. */
function roomUnder(limits: QuotaLimits | undefined, usage: Usage): QuotaRoom {
  if (limits === undefined) return {}
  return {
    ...(limits.maxInstances === undefined ? {} : { instances: limits.maxInstances - usage.instances }),
    ...(limits.maxCpu === undefined ? {} : { cpu: limits.maxCpu - usage.cpu }),
    ...(limits.maxMemoryMiB === undefined ? {} : { memoryMiB: limits.maxMemoryMiB - usage.memoryMiB }),
  }
}

function tighter(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? b : b === undefined ? a : Math.min(a, b)
}

/** The field-wise minimum of several rooms; undefined when none limits anything. */
export function tightestRoom(...rooms: readonly (QuotaRoom | undefined)[]): QuotaRoom | undefined {
  let instances: number | undefined
  let cpu: number | undefined
  let memoryMiB: number | undefined
  for (const r of rooms) {
    if (r === undefined) continue
    instances = tighter(instances, r.instances)
    cpu = tighter(cpu, r.cpu)
    memoryMiB = tighter(memoryMiB, r.memoryMiB)
  }
  if (instances === undefined && cpu === undefined && memoryMiB === undefined) return undefined
  return { ...(instances === undefined ? {} : { instances }), ...(cpu === undefined ? {} : { cpu }), ...(memoryMiB === undefined ? {} : { memoryMiB }) }
}

/** Decides every group in order under shared quotas (see the module comment). Without quotas it is decide() per group. */
export function decideFleet(inputs: readonly DecideInput[], quotas?: FleetQuotas): Decision[] {
  const perProvider = quotas?.perProvider
  const limited = quotas !== undefined && (quotas.maxInstances !== undefined || quotas.maxCpu !== undefined || quotas.maxMemoryMiB !== undefined || (perProvider !== undefined && Object.keys(perProvider).length > 0))
  if (!limited) return inputs.map((input) => decide(input))
  const fleet: Usage = { instances: 0, cpu: 0, memoryMiB: 0 }
  const byProvider = new Map<string, Usage>()
  const usageOf = (provider: string): Usage => {
    let u = byProvider.get(provider)
    if (u === undefined) {
      u = { instances: 0, cpu: 0, memoryMiB: 0 }
      byProvider.set(provider, u)
    }
    return u
  }
  for (const input of inputs) {
    add(fleet, input.state.desiredReplicas, input.state.size)
    add(usageOf(input.spec.provider), input.state.desiredReplicas, input.state.size)
  }
  return inputs.map((input) => {
    const providerUsage = usageOf(input.spec.provider)
    const quotaRoom = tightestRoom(input.quotaRoom, roomUnder(quotas, fleet), roomUnder(perProvider?.[input.spec.provider], providerUsage))
    const decision = decide(quotaRoom === undefined ? input : { ...input, quotaRoom })
    const delta = decision.to - decision.from
    add(fleet, delta, input.state.size)
    add(providerUsage, delta, input.state.size)
    return decision
  })
}
