/**
 * `tide get … -w`: watching a running tide through its API until stopped.
 * - events: the latest page (oldest first), then every new event from `GET /events/stream`,
 *   resumed after the page's newest id so that nothing falls between the two;
 * - groups and instances: the table (or JSON document) again whenever it changes, read again on
 *   every event of the stream and every 2 s.
 * With `json`, one JSON document per line. It ends on Ctrl-C or SIGTERM (or the caller's signal:
 * exit 0), when the tide ends the stream while still answering (exit 0), and when the tide goes
 * away (exit 3: the stream broke and the API no longer answers, or a read found no tide).
 */
import { API_TIMEOUT_MS, EXIT_UNREACHABLE, apiRequest, exchange, type ApiResult } from './api-client.ts'
import type { CommandIo } from './args.ts'
import { followEventStream, type SseFrame, type StreamEnd } from './event-stream-client.ts'

/** How often groups and instances are read again when no event comes, ms. */
export const WATCH_POLL_MS = 2000

/** What every watch needs. */
export interface WatchTarget {
  readonly baseUrl: string
  readonly token: string | undefined
  readonly io: CommandIo
  /** One JSON document per line instead of text. */
  readonly json: boolean
  /** The stream's filters: `group=…&type=…` (may be empty). */
  readonly streamQuery: string
}

/** An event as the API shows it: what the watch needs of one (the rest is printed as it is with --json, and by `line`). */
export interface WatchedEvent {
  readonly id?: number
}

/**
 * Follows the events: the page at `pagePath` first, oldest first, then the stream. `line`
 * renders one event as text. Returns the exit status.
 */
export async function watchEvents(target: WatchTarget, pagePath: string, line: (e: WatchedEvent) => string): Promise<number> {
  const { io } = target
  const stop = stopSignal(io)
  try {
    const page = await apiRequest({ baseUrl: target.baseUrl, method: 'GET', path: pagePath, token: target.token, io })
    if (!page.ok) return page.exitCode
    const events = (page.body as { events: WatchedEvent[] }).events
    const print = (e: WatchedEvent): void => {
      io.stdout.write(target.json ? `${JSON.stringify(e)}\n` : line(e))
    }
    for (const e of [...events].reverse()) print(e)
    const newest = events[0]?.id
    const end = await followEventStream({
      url: streamUrl(target),
      token: target.token,
      ...(newest === undefined ? {} : { lastEventId: String(newest) }),
      signal: stop.signal,
      onOpen: () => {
        announce(target)
      },
      onFrame: (frame) => {
        const e = eventOf(frame)
        if (e !== undefined) print(e)
      },
    })
    return await endStatus(end, target)
  } finally {
    stop.dispose()
  }
}

/**
 * Watches what `GET path` answers: `render` turns an answer into text (ignored with json);
 * printed first, then again whenever it differs from what was printed last. Returns the exit status.
 */
export async function watchSnapshot(target: WatchTarget, path: string, render: (body: unknown) => string): Promise<number> {
  const { io } = target
  const stop = stopSignal(io)
  const failed = new AbortController()
  let failure: number | undefined
  let last: string | undefined
  const read = async (): Promise<ApiResult> => {
    const r = await apiRequest({ baseUrl: target.baseUrl, method: 'GET', path, token: target.token, io })
    if (r.ok) {
      const text = target.json ? `${JSON.stringify(r.body)}\n` : render(r.body)
      if (text !== last) io.stdout.write(last === undefined || target.json ? text : `\n${text}`)
      last = text
    }
    return r
  }
  // One read at a time; a reason to read during a read reads once more after it.
  let reading: Promise<void> | undefined
  // An object, so that TypeScript does not take `again` as fixed across the awaits.
  const wanted: { again: boolean } = { again: false }
  const refresh = (): Promise<void> => {
    if (reading !== undefined) {
      wanted.again = true
      return reading
    }
    reading = (async () => {
      do {
        wanted.again = false
        const r = await read()
        if (!r.ok) {
          failure ??= r.exitCode
          failed.abort()
          return
        }
      } while (readAgain(wanted) && !stop.signal.aborted)
    })().finally(() => {
      reading = undefined
    })
    return reading
  }
  try {
    const first = await read()
    if (!first.ok) return first.exitCode
    const timer = setInterval(() => void refresh(), WATCH_POLL_MS)
    let end: StreamEnd
    try {
      end = await followEventStream({
        url: streamUrl(target),
        token: target.token,
        signal: AbortSignal.any([stop.signal, failed.signal]),
        onOpen: () => {
          announce(target)
        },
        onFrame: () => void refresh(),
      })
    } finally {
      clearInterval(timer)
    }
    await reading
    return failure ?? (await endStatus(end, target))
  } finally {
    stop.dispose()
  }
}

/** Whether a reason to read came during the read. */
function readAgain(wanted: { readonly again: boolean }): boolean {
  return wanted.again
}

/** `…/events/stream?…` of the target. */
function streamUrl(target: WatchTarget): string {
  return `${target.baseUrl}/events/stream${target.streamQuery === '' ? '' : `?${target.streamQuery}`}`
}

/** Says on stderr what is watched and how to stop, once the stream is open (stdout stays the data). */
function announce(target: WatchTarget): void {
  target.io.stderr.write(`tide: watching ${target.baseUrl} (Ctrl-C stops)\n`)
}

/** The event a frame carries, or undefined for a frame that is not JSON. */
function eventOf(frame: SseFrame): WatchedEvent | undefined {
  try {
    return JSON.parse(frame.data) as WatchedEvent
  } catch {
    return undefined
  }
}

/** The exit status for how the stream ended; for an end, whether the tide is still there says which. */
async function endStatus(end: StreamEnd, target: WatchTarget): Promise<number> {
  const { io, baseUrl } = target
  switch (end.kind) {
    case 'stopped':
      return 0
    case 'refused':
      if (end.status === undefined) {
        io.stderr.write(`tide: no tide answered at ${baseUrl} (${end.why}); start one with 'tide up -c tide.yaml', or name its API with --api URL\n`)
        return EXIT_UNREACHABLE
      }
      io.stderr.write(`tide: ${baseUrl}/events/stream answered ${end.why}: ${apiErrorText(end.body ?? '')}\n`)
      return 1
    case 'ended':
      if (await answers(baseUrl)) {
        io.stderr.write(`tide: the event stream of ${baseUrl} ended (${end.why})\n`)
        return 0
      }
      io.stderr.write(`tide: the tide at ${baseUrl} went away (${end.why})\n`)
      return EXIT_UNREACHABLE
  }
}

/** `CODE: message` of an API error body, or the body's start. */
function apiErrorText(body: string): string {
  try {
    const e = (JSON.parse(body) as { error?: { code?: string; message?: string } }).error
    if (e?.code !== undefined) return `${e.code}: ${e.message ?? ''}`
  } catch {
    // not JSON: shown as it is
  }
  return body.slice(0, 200)
}

/**
 * Whether the API still answers at all (any HTTP answer), after a moment for a stopping tide to
 * close its port. On a new connection (`agent: false`): a kept-alive socket of the ended stream
 * may still be served by a server that has stopped listening, and would say the tide is there.
 */
async function answers(baseUrl: string): Promise<boolean> {
  await new Promise((resolve) => setTimeout(resolve, 200))
  return exchange(`${baseUrl}/groups`, { method: 'GET', headers: {}, timeoutMs: Math.min(API_TIMEOUT_MS, 2000), newConnection: true }).then(
    () => true,
    () => false,
  )
}

/** Aborts on the caller's signal, or (when there is none: the real CLI) on SIGINT or SIGTERM while the watch runs. */
function stopSignal(io: CommandIo): { readonly signal: AbortSignal; dispose(): void } {
  const controller = new AbortController()
  const stop = (): void => {
    controller.abort()
  }
  if (io.signal !== undefined) {
    if (io.signal.aborted) stop()
    io.signal.addEventListener('abort', stop, { once: true })
    return { signal: controller.signal, dispose: () => io.signal?.removeEventListener('abort', stop) }
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGINT', stop)
      process.off('SIGTERM', stop)
    },
  }
}
