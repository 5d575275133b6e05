/**
 * `GET /events/stream`: the event log live, as server-sent events (text/event-stream). The stream
 * tails the store: when the running tide records an event (TideService.subscribe; the store is
 * the first sink, so the event is written by then) the events stored after the last one sent are
 * read back and sent with their store ids, so `Last-Event-ID` resumes exactly. An event the store
 * failed to write is still sent, without an id. A comment line every heartbeat keeps proxies from
 * closing an idle stream. The subscription and the timer end when the client goes away.
 */
import type { TideService } from '../app/tide-service.ts'
import type { StoredEvent } from '../store/event-log.ts'
import type { TideEvent, TideEventType } from '../store/events.ts'

/** The heartbeat's default period, ms: a comment line (`: heartbeat`) when nothing else was sent. */
export const HEARTBEAT_MS = 15_000

/** What one stream sends: the filters of GET /events, where it resumes, and its heartbeat. */
export interface EventStreamOptions {
  readonly group?: string
  readonly types?: readonly TideEventType[]
  /** The id of the last event the client saw (Last-Event-ID): the stored events after it are sent first. */
  readonly afterId?: number
  /** Heartbeat period, ms; HEARTBEAT_MS when absent. */
  readonly heartbeatMs?: number
  /** Aborted when the client disconnects (the request's signal). */
  readonly signal?: AbortSignal
}

/** One event in the SSE wire format: `id:` (when stored), `event:` its type, `data:` its JSON on one line. */
export function sseFrame(event: StoredEvent | TideEvent): string {
  const id = 'id' in event ? `id: ${event.id}\n` : ''
  return `${id}event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`
}

/** The stream's body: every matching event from now on (after `afterId` when given), until the client goes away. */
export function eventStream(service: TideService, opts: EventStreamOptions): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder()
  const matches = (e: TideEvent): boolean => (opts.group === undefined || e.group === opts.group) && (opts.types === undefined || opts.types.includes(e.type))
  const query = { ...(opts.group === undefined ? {} : { group: opts.group }), ...(opts.types === undefined ? {} : { types: opts.types }) }
  let lastId = opts.afterId ?? 0
  let stop: (() => void) | undefined
  let timer: ReturnType<typeof setInterval> | undefined
  const end = (): void => {
    stop?.()
    stop = undefined
    if (timer !== undefined) clearInterval(timer)
    timer = undefined
  }
  return new ReadableStream<Uint8Array>({
    start(controller) {
      const send = (text: string): void => {
        try {
          controller.enqueue(encoder.encode(text))
        } catch {
          end() // the stream is closed
        }
      }
      /** Sends the stored events after the last one sent; true when there were any. */
      const catchUp = async (): Promise<boolean> => {
        let sent = false
        for (;;) {
          const page = await service.eventsAfter(lastId, query)
          for (const e of page) {
            send(sseFrame(e))
            lastId = Math.max(lastId, e.id)
            sent = true
          }
          if (page.length < 1000) return sent
        }
      }
      if (opts.signal?.aborted === true) return
      opts.signal?.addEventListener('abort', () => {
        end()
        try {
          controller.close()
        } catch {
          // already closed
        }
      }, { once: true })
      // A comment first: the client sees the stream open before any event.
      send(': stream open\n\n')
      // Reads of the store run one after another, in the order events came (a PostgreSQL store answers asynchronously).
      let reading: Promise<unknown> = (opts.afterId !== undefined ? catchUp() : service.lastEventId().then((id) => (lastId = Math.max(lastId, id)))).catch(() => undefined)
      stop = service.subscribe((e) => {
        if (!matches(e)) return
        reading = reading
          .then(async () => {
            // Read back once written (a PostgreSQL store writes at the tick's flush); not in the
            // store (its write failed): sent as it is, without an id.
            await service.written()
            if (!(await catchUp())) send(sseFrame(e))
          })
          .catch(() => {
            send(sseFrame(e))
          })
      })
      timer = setInterval(() => {
        send(': heartbeat\n\n')
      }, opts.heartbeatMs ?? HEARTBEAT_MS)
      timer.unref()
    },
    cancel() {
      end()
    },
  })
}
