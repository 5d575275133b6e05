/**
 * The threads that do the shop's cpu work, sized by the instance's cpu (TIDE_CPU):
 * threads = ceil(cpu), so an instance of 2 cpu can keep two cores busy and one of 1
 * cpu only one. For a fraction (0.5 cpu, or 1.5 over 2 threads) each thread is
 * throttled to cpu/threads of a core the way a cgroup cpu quota throttles a
 * container: after a job that ran d ms the thread rests d × (1/share − 1) ms before
 * the job's answer is released and the thread takes the next job. So capacity, and
 * latency under load, follow the size honestly. Jobs queue FIFO when all threads are busy.
 */
import { Worker } from 'node:worker_threads'
import type { WorkJob, WorkResult } from './work-worker.ts'

/** How the pool is sized. */
export interface WorkPoolOptions {
  /** Cpu cores of the instance (> 0). */
  readonly cpu: number
  /** burn() iterations per millisecond on this machine (calibrateIterationsPerMs()). */
  readonly iterationsPerMs: number
}

interface Pending {
  readonly job: WorkJob
  readonly resolve: (checksum: number) => void
  readonly reject: (err: Error) => void
}

interface Slot {
  worker: Worker
  current: Pending | undefined
}

/**
 * Starts a worker from a TypeScript file: under tsx the main thread's loader hooks do
 * not reach workers on Node 20, so the worker first registers tsx itself.
 */
function startWorker(file: URL): Worker {
  if (!file.pathname.endsWith('.ts')) return new Worker(file)
  const tsxApi = import.meta.resolve('tsx/esm/api')
  const code = `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(file.href)}) })`
  return new Worker(code, { eval: true })
}

/** A fixed set of work threads with a FIFO queue. */
export class WorkPool {
  /** Number of threads: ceil(cpu). */
  readonly threads: number
  /** Share of one core each thread may use (0–1]: cpu / threads. */
  readonly shareOfCore: number
  readonly #iterationsPerMs: number
  readonly #file: URL
  readonly #slots: Slot[] = []
  readonly #queue: Pending[] = []
  #nextId = 1
  #closed = false

  constructor(options: WorkPoolOptions) {
    this.threads = Math.max(1, Math.ceil(options.cpu))
    this.shareOfCore = Math.min(1, options.cpu / this.threads)
    this.#iterationsPerMs = options.iterationsPerMs
    this.#file = new URL(`./work-worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url)
    for (let i = 0; i < this.threads; i++) {
      const slot: Slot = { worker: startWorker(this.#file), current: undefined }
      this.#wire(slot)
      this.#slots.push(slot)
    }
  }

  /** Listens to a slot's worker; a worker that dies fails its job and is replaced by a fresh one. */
  #wire(slot: Slot): void {
    const worker = slot.worker
    worker.unref()
    worker.on('message', (r: WorkResult) => {
      this.#finish(slot, r)
    })
    worker.on('error', (err) => {
      slot.current?.reject(err)
      slot.current = undefined
    })
    worker.on('exit', () => {
      if (this.#closed || slot.worker !== worker) return
      slot.current?.reject(new Error('work thread exited'))
      slot.current = undefined
      slot.worker = startWorker(this.#file)
      this.#wire(slot)
      this.#dispatch()
    })
  }

  /** Jobs waiting for a thread. */
  get queued(): number {
    return this.#queue.length
  }

  /** Runs about `workMs` milliseconds of cpu work seeded by `seed`; resolves with its checksum. */
  run(workMs: number, seed: number): Promise<number> {
    if (this.#closed) return Promise.reject(new Error('work pool is closed'))
    return new Promise((resolve, reject) => {
      const job: WorkJob = { id: this.#nextId++, iterations: Math.max(1, Math.round(workMs * this.#iterationsPerMs)), seed }
      this.#queue.push({ job, resolve, reject })
      this.#dispatch()
    })
  }

  /** Stops the threads; jobs still queued are rejected. */
  async close(): Promise<void> {
    this.#closed = true
    for (const p of this.#queue.splice(0)) p.reject(new Error('work pool closed'))
    await Promise.all(this.#slots.map((s) => s.worker.terminate()))
  }

  #dispatch(): void {
    for (const slot of this.#slots) {
      if (slot.current !== undefined) continue
      const next = this.#queue.shift()
      if (next === undefined) return
      slot.current = next
      slot.worker.ref() // a job is out: keep the process alive until it answers
      slot.worker.postMessage(next.job)
    }
  }

  #finish(slot: Slot, result: WorkResult): void {
    const pending = slot.current
    if (pending?.job.id !== result.id) return
    const restMs = this.shareOfCore >= 1 ? 0 : result.elapsedMs * (1 / this.shareOfCore - 1)
    const release = (): void => {
      slot.current = undefined
      slot.worker.unref()
      pending.resolve(result.checksum)
      this.#dispatch()
    }
    if (restMs <= 0) release()
    else setTimeout(release, restMs)
  }
}
