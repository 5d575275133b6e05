/**
 * A kubernetes group's cpu and memory per pod, from metrics.k8s.io (metrics-server's
 * PodMetrics), as a MetricsSource: refresh() reads the namespace's PodMetrics once per sync
 * (bounded by `timeoutMs`, never rejecting), read() turns each pod's usage into the engine's
 * InstanceSample: cpuRatio = cores used ÷ the pod's cpu size (its request, as the HPA's
 * utilization), memoryMiB, and the sample's window (cpuAtMs, cpuWindowMs) for the HPA's cpu rule.
 * A pod metrics-server does not report yet is missing, and a failed or absent metrics API is "no
 * metrics" (undefined): never a reason to scale in.
 */
import type { MetricsSource } from '../controller/metrics-source.ts'
import type { InstanceSample, Signals } from '../engine/types.ts'
import type { KubeClient, PodUsage } from '../providers/kubernetes/kube-client.ts'
import { cpuCores, memoryMiB } from '../providers/kubernetes/quantity.ts'

/** Options of the source. */
export interface PodMetricsOptions {
  readonly client: Pick<KubeClient, 'podUsage'>
  readonly namespace: string
  /** The container whose usage is the instance's; every container summed when absent. */
  readonly container?: string | undefined
  /** The longest a refresh waits for the metrics API, ms. Default 5000. */
  readonly timeoutMs?: number
}

/** metrics.k8s.io as a group's signal source. */
export class PodMetricsSignals implements MetricsSource {
  readonly #opts: PodMetricsOptions
  #usage: ReadonlyMap<string, PodUsage> | undefined
  /** Why the last refresh failed, for status and tests; undefined after a success. */
  lastError: string | undefined

  constructor(options: PodMetricsOptions) {
    this.#opts = options
  }

  async refresh(): Promise<void> {
    const timeoutMs = this.#opts.timeoutMs ?? 5000
    let timer: NodeJS.Timeout | undefined
    try {
      const usage = await Promise.race([
        this.#opts.client.podUsage(this.#opts.namespace),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            reject(new Error(`metrics.k8s.io did not answer within ${String(timeoutMs)} ms`))
          }, timeoutMs)
        }),
      ])
      this.#usage = new Map(usage.map((u) => [u.pod, u]))
      this.lastError = undefined
    } catch (err) {
      this.#usage = undefined
      this.lastError = err instanceof Error ? err.message : String(err)
    } finally {
      if (timer) clearTimeout(timer)
    }
  }

  read(_spec: unknown, instances: readonly { readonly id: string; readonly size: { readonly cpu: number } }[], nowMs: number): Signals | undefined {
    const usage = this.#usage
    if (usage === undefined) return undefined
    const samples = new Map<string, InstanceSample>()
    let atMs = 0
    for (const v of instances) {
      const u = usage.get(v.id)
      if (u === undefined) continue
      const containers = this.#opts.container === undefined ? u.containers : u.containers.filter((c) => c.name === this.#opts.container)
      if (containers.length === 0) continue
      let cores = 0
      let mib = 0
      for (const c of containers) {
        cores += cpuCores(c.cpu) ?? Number.NaN
        mib += memoryMiB(c.memory) ?? Number.NaN
      }
      const sample: { -readonly [K in keyof InstanceSample]: InstanceSample[K] } = {}
      if (Number.isFinite(cores) && v.size.cpu > 0) {
        sample.cpuRatio = cores / v.size.cpu
        sample.cpuAtMs = u.atMs
        sample.cpuWindowMs = u.windowMs
      }
      if (Number.isFinite(mib)) sample.memoryMiB = mib
      samples.set(v.id, sample)
      atMs = Math.max(atMs, u.atMs)
    }
    return { atMs: atMs > 0 ? Math.min(atMs, nowMs) : nowMs, instances: samples, group: {} }
  }
}
