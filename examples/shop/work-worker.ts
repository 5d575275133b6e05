/**
 * One work thread of the shop's WorkPool: runs burn() for each job it is sent and
 * answers with the checksum and the thread cpu time the job took.
 */
import { parentPort } from 'node:worker_threads'
import { performance } from 'node:perf_hooks'
import { burn } from './work.ts'

/** A job: how many iterations, from which seed. */
export interface WorkJob {
  readonly id: number
  readonly iterations: number
  readonly seed: number
}

/** The answer to a job. */
export interface WorkResult {
  readonly id: number
  readonly checksum: number
  /** Wall milliseconds the job ran in this thread. */
  readonly elapsedMs: number
}

const port = parentPort
if (port === null) throw new Error('work-worker.ts must run as a worker thread')
port.on('message', (job: WorkJob) => {
  const start = performance.now()
  const checksum = burn(job.iterations, job.seed)
  const result: WorkResult = { id: job.id, checksum, elapsedMs: performance.now() - start }
  port.postMessage(result)
})
