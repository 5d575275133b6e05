/**
 * The body of a bench/sim-pool.ts worker thread: runs each SimJob it is sent and posts back
 * `{ id, result }` or `{ id, error }` (the error's stack as text).
 */
import { parentPort } from 'node:worker_threads'
import { runJob, type SimJob } from './sim-job.ts'

const port = parentPort
if (port === null) throw new Error('bench/sim-worker.ts runs only as a worker thread (bench/sim-pool.ts)')
port.on('message', (msg: { id: number; job: SimJob }) => {
  runJob(msg.job).then(
    (result) => { port.postMessage({ id: msg.id, result }) },
    (err: unknown) => { port.postMessage({ id: msg.id, error: err instanceof Error ? (err.stack ?? err.message) : String(err) }) },
  )
})
