/**
 * The event-stream client of `tide get -w`: the text/event-stream parser case by case, and how a
 * follow ends against real HTTP servers on 127.0.0.1 (frames then the end, an error answer, no
 * server, the caller stopping it). The follow against a real tide: test/cli/watch.test.ts.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type Server, type ServerResponse } from 'node:http'
import { SseParser, followEventStream, type SseFrame } from '../../src/cli/event-stream-client.ts'

test('SseParser: frames from chunks split anywhere, comments dropped, CRLF, multi-line data', () => {
  const cases: { name: string; chunks: string[]; want: SseFrame[] }[] = [
    { name: 'one frame', chunks: ['id: 1\nevent: decision\ndata: {"a":1}\n\n'], want: [{ id: '1', event: 'decision', data: '{"a":1}' }] },
    { name: 'split in the middle of a line and of the blank line', chunks: ['id: 2\nda', 'ta: x\n', '\n'], want: [{ id: '2', data: 'x' }] },
    { name: 'comments and a frame without data are dropped', chunks: [': stream open\n\n: heartbeat\n\nevent: only\n\n'], want: [] },
    { name: 'CRLF line ends', chunks: ['data: a\r\n\r\ndata: b\r\n\r\n'], want: [{ data: 'a' }, { data: 'b' }] },
    { name: 'data lines joined by newlines; no space after the colon', chunks: ['data:one\ndata: two\n\n'], want: [{ data: 'one\ntwo' }] },
    { name: 'an unfinished frame waits', chunks: ['data: half\n'], want: [] },
  ]
  for (const c of cases) {
    const parser = new SseParser()
    assert.deepEqual(c.chunks.flatMap((chunk) => parser.push(chunk)), c.want, c.name)
  }
})

/** Serves `handle` on 127.0.0.1 (a port the OS picks); its URL and how to stop it. */
async function serve(handle: (res: ServerResponse) => void): Promise<{ url: string; close: () => Promise<void> }> {
  const server: Server = createServer((_req, res) => {
    handle(res)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  return {
    url: `http://127.0.0.1:${port}/events/stream`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => {
          resolve()
        })
      }),
  }
}

test('a follow: the frames, then "ended" when the server ends the stream', async (t) => {
  const s = await serve((res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    res.write(': stream open\n\nid: 7\nevent: launch\ndata: {"id":7}\n\n')
    setTimeout(() => res.end('data: last\n\n'), 50)
  })
  t.after(s.close)
  const frames: SseFrame[] = []
  let opened = false
  const end = await followEventStream({ url: s.url, token: undefined, signal: new AbortController().signal, onOpen: () => (opened = true), onFrame: (f) => frames.push(f) })
  assert.equal(opened, true)
  assert.deepEqual(frames, [{ id: '7', event: 'launch', data: '{"id":7}' }, { data: 'last' }])
  assert.deepEqual(end, { kind: 'ended', why: 'the server ended the stream' })
})

test('a follow: an answer that is not a stream is "refused" with its status and body; no server is "refused" with the reason', async (t) => {
  const s = await serve((res) => {
    res.writeHead(401, { 'content-type': 'application/json' })
    res.end('{"error":{"code":"TIDE_ERR_API_UNAUTHORIZED","message":"no token"}}')
  })
  t.after(s.close)
  const end = await followEventStream({ url: s.url, token: 'x', signal: new AbortController().signal, onFrame: () => undefined })
  assert.ok(end.kind === 'refused')
  assert.equal(end.status, 401)
  assert.match(end.body ?? '', /TIDE_ERR_API_UNAUTHORIZED/)
  const gone = await serve(() => undefined)
  await gone.close()
  assert.deepEqual(await followEventStream({ url: gone.url, token: undefined, signal: new AbortController().signal, onFrame: () => undefined }), { kind: 'refused', why: 'ECONNREFUSED' })
})

test('a follow: the caller\'s signal stops it ("stopped"), before or while it reads', async (t) => {
  const s = await serve((res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    res.write(': stream open\n\n')
  })
  t.after(s.close)
  const stop = new AbortController()
  const end = followEventStream({ url: s.url, token: undefined, signal: stop.signal, onOpen: () => setTimeout(() => { stop.abort(); }, 50), onFrame: () => undefined })
  assert.deepEqual(await end, { kind: 'stopped' })
  assert.deepEqual(await followEventStream({ url: s.url, token: undefined, signal: stop.signal, onFrame: () => undefined }), { kind: 'stopped' })
})
