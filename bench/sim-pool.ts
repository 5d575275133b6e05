/**
 * Runs the quality bench's simulations on worker threads (node:worker_threads), so that a
 * 2-core machine replays two at once. Each simulation is single-threaded and independent, and
 * its result is the same wherever it runs (the simulator is deterministic).
 *
 * Workers are started with tsx registered through an eval'd bootstrap: Node 20 does not load a
 * .ts file as a worker by itself, even under `--import tsx`.
 */
import { Worker } from 'node:worker_threads'
import type { SimulationResult } from '../src/simulator/simulate.ts'
import { runJob, type SimJob } from './sim-job.ts'

/** The worker count: BENCH_WORKERS when set (1 runs everything in this thread), else 2. */
export function workerCount(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.BENCH_WORKERS
  if (raw === undefined || raw === '') return 2
  const n = Number(raw)
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new RangeError(`BENCH_WORKERS must be an integer from 1 to 64, got '${raw}'`)
  return n
}

type Reply = { id: number; result: SimulationResult } | { id: number; error: string }

function startWorker(): Worker {
  const api = import.meta.resolve('tsx/esm/api')
  const body = new URL('./sim-worker.ts', import.meta.url).href
  const boot = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(body)}) })`
  return new Worker(boot, { eval: true })
}

/**
 * Runs every job and returns the results in the jobs' order. Jobs are handed out in the order
 * given (put the longest first), one at a time to whichever worker is free. The first failure
 * rejects, naming the job, after the workers are stopped.
 */
export async function runJobs(jobs: readonly SimJob[], workers = workerCount(), onDone?: (done: number) => void): Promise<SimulationResult[]> {
  const results: SimulationResult[] = new Array<SimulationResult>(jobs.length)
  if (workers <= 1 || jobs.length <= 1) {
    for (const [i, job] of jobs.entries()) {
      results[i] = await runJob(job)
      onDone?.(i + 1)
    }
    return results
  }
  const pool = Array.from({ length: Math.min(workers, jobs.length) }, startWorker)
  let next = 0
  let done = 0
  try {
    await new Promise<void>((resolve, reject) => {
      const feed = (w: Worker) => {
        if (next >= jobs.length) return
        const id = next++
        w.postMessage({ id, job: jobs[id] })
      }
      for (const w of pool) {
        w.on('message', (msg: Reply) => {
          if ('error' in msg) {
            reject(new Error(`bench: simulation ${JSON.stringify(jobs[msg.id])} failed: ${msg.error}`))
            return
          }
          results[msg.id] = msg.result
          done++
          onDone?.(done)
          if (done === jobs.length) resolve()
          else feed(w)
        })
        w.on('error', reject)
        w.on('exit', (code) => { if (done < jobs.length) reject(new Error(`bench: a simulation worker exited with code ${code}`)) })
        feed(w)
      }
    })
  } finally {
    await Promise.all(pool.map((w) => w.terminate()))
  }
  return results
}
