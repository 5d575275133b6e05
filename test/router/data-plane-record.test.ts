import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { configHash, dataPlaneDir, listRecords, readRecord, recordPath, removeRecord, socketPath, writeRecord, type DataPlaneRecord } from '../../src/router/data-plane-record.ts'
import { HealthSchema, RoutingSchema } from '../../src/spec/schema.ts'

function dir(): string {
  const d = mkdtempSync(join(tmpdir(), 'tide-dp-record-'))
  test.after(() => {
    rmSync(d, { recursive: true, force: true })
  })
  return d
}

const record = (group: string, pid = 4242): DataPlaneRecord => ({ group, pid, startTime: '123', socket: `/tmp/${group}.sock`, host: '127.0.0.1', port: 8080, proxy: 'tide', configHash: 'abc', startedAtMs: 1 })

test('a record round-trips, mode 0600 in a 0700 folder; remove only removes the pid it names', () => {
  const d = dir()
  writeRecord(d, record('shop'))
  assert.deepEqual(readRecord(d, 'shop'), record('shop'))
  assert.equal(statSync(recordPath(d, 'shop')).mode & 0o777, 0o600)
  assert.equal(statSync(dataPlaneDir(d)).mode & 0o777, 0o700)
  removeRecord(d, 'shop', 1) // another pid: a newer data plane's record stays
  assert.ok(readRecord(d, 'shop'))
  removeRecord(d, 'shop', 4242)
  assert.equal(readRecord(d, 'shop'), undefined)
})

const unreadable = [
  { name: 'torn JSON', text: '{"group": "x", "pid": 1' },
  { name: 'not a record', text: '{"hello": 1}' },
  { name: 'a negative pid', text: JSON.stringify({ ...record('x'), pid: -1 }) },
] as const
for (const c of unreadable) {
  test(`an unreadable record is ignored, not trusted: ${c.name}`, () => {
    const d = dir()
    writeRecord(d, record('ok'))
    writeFileSync(recordPath(d, 'x'), c.text)
    assert.equal(readRecord(d, 'x'), undefined)
    assert.deepEqual(listRecords(d).map((r) => r.group), ['ok'])
  })
}

test('the socket lives in the state directory, or under a hashed name in the temp directory when that path is too long for a unix socket', () => {
  assert.equal(socketPath('/srv/shop/.tide', 'web'), '/srv/shop/.tide/dataplane/web.sock')
  const long = `/srv/${'x'.repeat(120)}`
  const p = socketPath(long, 'web')
  assert.ok(p.startsWith(tmpdir()) && Buffer.byteLength(p) <= 107, p)
  assert.equal(socketPath(long, 'web'), p, 'the same name every time')
  assert.notEqual(socketPath(long, 'api'), p, 'one per group')
})

test('the config hash follows routing, health and the core count, and nothing else', () => {
  const routing = RoutingSchema.parse({})
  const health = HealthSchema.parse({})
  const h = configHash(routing, health, 2)
  assert.equal(configHash(RoutingSchema.parse({}), HealthSchema.parse({}), 2), h)
  assert.notEqual(configHash({ ...routing, listen: 9090 }, health, 2), h)
  assert.notEqual(configHash(routing, { ...health, path: '/ready' }, 2), h)
  assert.notEqual(configHash(routing, health, 3), h)
})
