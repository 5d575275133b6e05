/**
 * A Provider fake for controller tests: in-memory instances that the test moves
 * through their lifecycle by hand. Records every call; `nextError` makes the next
 * call of that method fail once (Karpenter's fake.CloudProvider).
 */
import type { InstanceRecord, Provider, ProviderCapabilities } from '../../src/providers/provider.ts'
import type { GroupSpec, Size } from '../../src/spec/schema.ts'
import type { Clock } from '../../src/core/clock.ts'

type Mutable<T> = { -readonly [K in keyof T]: T[K] }

export class FakeProvider implements Provider {
  readonly name = 'fake'
  readonly capabilities: ProviderCapabilities = { resize: 'replace', adopts: true }
  readonly calls: { method: string; args: unknown[] }[] = []
  readonly instances = new Map<string, Mutable<InstanceRecord>>()
  nextError: Partial<Record<'list' | 'launch' | 'terminate', Error | undefined>> = {}
  #seq = 0
  readonly #clock: Clock
  /** When set, launched instances become running after this many ms (checked on list). */
  readonly autoReadyMs: number | undefined

  constructor(clock: Clock, autoReadyMs?: number) {
    this.#clock = clock
    this.autoReadyMs = autoReadyMs
  }

  #fail(method: 'list' | 'launch' | 'terminate'): void {
    const err = this.nextError[method]
    if (err) {
      this.nextError[method] = undefined
      throw err
    }
  }

  list(group: GroupSpec): Promise<InstanceRecord[]> {
    this.calls.push({ method: 'list', args: [group.group] })
    this.#fail('list')
    const now = this.#clock.now()
    const out: InstanceRecord[] = []
    for (const r of this.instances.values()) {
      if (r.group !== group.group) continue
      if (this.autoReadyMs !== undefined && r.status === 'starting' && now >= r.launchedAtMs + this.autoReadyMs) {
        r.status = 'running'
        r.readyAtMs = r.launchedAtMs + this.autoReadyMs
      }
      out.push({ ...r })
    }
    return Promise.resolve(out)
  }

  launch(group: GroupSpec, size: Size, count: number): Promise<InstanceRecord[]> {
    this.calls.push({ method: 'launch', args: [group.group, size, count] })
    this.#fail('launch')
    const out: InstanceRecord[] = []
    for (let i = 0; i < count; i++) {
      const r: Mutable<InstanceRecord> = { id: `i-${++this.#seq}`, group: group.group, status: 'starting', size, launchedAtMs: this.#clock.now(), address: { host: '127.0.0.1', port: 20000 + this.#seq } }
      this.instances.set(r.id, r)
      out.push({ ...r })
    }
    return Promise.resolve(out)
  }

  terminate(group: GroupSpec, instanceId: string): Promise<void> {
    this.calls.push({ method: 'terminate', args: [group.group, instanceId] })
    this.#fail('terminate')
    this.instances.delete(instanceId)
    return Promise.resolve()
  }

  /** Makes an instance ready now (as its health check passing). */
  markRunning(id: string, atMs = this.#clock.now()): void {
    const r = this.instances.get(id)
    if (!r) throw new Error(`no instance ${id}`)
    r.status = 'running'
    r.readyAtMs = atMs
  }

  /** Simulates the process dying. */
  markFailed(id: string): void {
    const r = this.instances.get(id)
    if (!r) throw new Error(`no instance ${id}`)
    r.status = 'failed'
  }

  countCalls(method: string): number {
    return this.calls.filter((c) => c.method === method).length
  }
}
