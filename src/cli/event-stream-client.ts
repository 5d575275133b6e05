/**
 * The client side of `GET /events/stream` (docs/api.md) for `tide get … -w`: a text/event-stream
 * parser and one bounded follow of the stream. Bounded means: connecting (until the answer's
 * headers) takes at most API_TIMEOUT_MS, and the follow ends when the caller's signal aborts
 * (Ctrl-C, SIGTERM), when the server ends the stream (a tide stopping ends its streams), or when
 * the connection fails; the caller then tells "stopped" from "the tide went away" by asking the API.
 */
import { API_TIMEOUT_MS } from './api-client.ts'

/** One frame of a text/event-stream: its `id:`, `event:` and `data:` lines (data lines joined by newlines). */
export interface SseFrame {
  readonly id?: string
  readonly event?: string
  readonly data: string
}

/**
 * Parses a text/event-stream incrementally (the WHATWG "event stream interpretation", minus
 * `retry:`): `push` takes the next chunk of text and returns the frames it completed. Comments
 * (`: heartbeat`) and frames without data are dropped; CRLF and CR line ends are accepted.
 */
export class SseParser {
  #buffer = ''

  /** Adds `text` and returns every frame that a blank line completed. */
  push(text: string): SseFrame[] {
    this.#buffer += text.replace(/\r\n?/g, '\n')
    const frames: SseFrame[] = []
    for (let end = this.#buffer.indexOf('\n\n'); end >= 0; end = this.#buffer.indexOf('\n\n')) {
      const block = this.#buffer.slice(0, end)
      this.#buffer = this.#buffer.slice(end + 2)
      const frame = parseBlock(block)
      if (frame !== undefined) frames.push(frame)
    }
    return frames
  }
}

/** One blank-line-ended block as a frame, or undefined for a comment or a block without data. */
function parseBlock(block: string): SseFrame | undefined {
  let id: string | undefined
  let event: string | undefined
  const data: string[] = []
  for (const line of block.split('\n')) {
    if (line === '' || line.startsWith(':')) continue
    const colon = line.indexOf(':')
    const field = colon < 0 ? line : line.slice(0, colon)
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '')
    if (field === 'data') data.push(value)
    else if (field === 'id') id = value
    else if (field === 'event') event = value
  }
  if (data.length === 0) return undefined
  return { ...(id === undefined ? {} : { id }), ...(event === undefined ? {} : { event }), data: data.join('\n') }
}

/** How a follow of the stream ended. */
export type StreamEnd =
  /** The caller's signal aborted (Ctrl-C, SIGTERM). */
  | { readonly kind: 'stopped' }
  /** The server ended the stream, or the connection broke after it was open. */
  | { readonly kind: 'ended'; readonly why: string }
  /** No stream: no answer (`why`), or an answer that is not a stream (`status`, `body`). */
  | { readonly kind: 'refused'; readonly why: string; readonly status?: number; readonly body?: string }

/** What to follow and what to do with each frame. */
export interface FollowOptions {
  /** `http://127.0.0.1:7070/events/stream?…`. */
  readonly url: string
  readonly token: string | undefined
  /** Resume after this event id (the server first sends the stored events after it). */
  readonly lastEventId?: string
  readonly signal: AbortSignal
  /** Called once the stream is open, before any frame. */
  readonly onOpen?: () => void
  readonly onFrame: (frame: SseFrame) => void
}

/** Follows the event stream until it ends (see the module comment); never throws for network errors. */
export async function followEventStream(opts: FollowOptions): Promise<StreamEnd> {
  // A function, so that TypeScript does not take `aborted` as fixed between awaits.
  const stopped = (): boolean => opts.signal.aborted
  if (stopped()) return { kind: 'stopped' }
  const connection = new AbortController()
  const stop = (): void => {
    connection.abort()
  }
  opts.signal.addEventListener('abort', stop, { once: true })
  const connectTimer = setTimeout(() => {
    connection.abort(new Error(`no answer within ${API_TIMEOUT_MS / 1000} s`))
  }, API_TIMEOUT_MS)
  try {
    let res: Response
    try {
      res = await fetch(opts.url, {
        headers: {
          accept: 'text/event-stream',
          ...(opts.token === undefined ? {} : { authorization: `Bearer ${opts.token}` }),
          ...(opts.lastEventId === undefined ? {} : { 'last-event-id': opts.lastEventId }),
        },
        signal: connection.signal,
      })
    } catch (err) {
      return stopped() ? { kind: 'stopped' } : { kind: 'refused', why: whyOf(err, connection.signal) }
    } finally {
      clearTimeout(connectTimer)
    }
    if (!res.ok || res.body === null || !(res.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
      const body = await res.text().catch(() => '')
      return { kind: 'refused', why: `HTTP ${res.status}`, status: res.status, body }
    }
    opts.onOpen?.()
    return await readFrames(res.body, opts)
  } finally {
    clearTimeout(connectTimer)
    opts.signal.removeEventListener('abort', stop)
  }
}

/** Reads the open stream's frames into `onFrame` until it ends or the signal aborts. */
async function readFrames(body: ReadableStream<Uint8Array>, opts: FollowOptions): Promise<StreamEnd> {
  const parser = new SseParser()
  const decoder = new TextDecoder()
  const reader = body.getReader()
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) return opts.signal.aborted ? { kind: 'stopped' } : { kind: 'ended', why: 'the server ended the stream' }
      for (const frame of parser.push(decoder.decode(value, { stream: true }))) opts.onFrame(frame)
    }
  } catch (err) {
    return opts.signal.aborted ? { kind: 'stopped' } : { kind: 'ended', why: whyOf(err, undefined) }
  } finally {
    reader.releaseLock()
  }
}

/** A network error in a few words: the abort reason (the connect timeout), or the socket's error code. */
function whyOf(err: unknown, signal: AbortSignal | undefined): string {
  if (signal?.aborted === true && signal.reason instanceof Error) return signal.reason.message
  const e = err as { cause?: { code?: string; message?: string }; message?: string }
  return e.cause?.code ?? e.cause?.message ?? e.message ?? String(err)
}
