/**
 * The data plane in its own process (src/router/data-plane*.ts, Router's `dataPlane` option):
 * real data-plane processes, real backends and real HTTP on 127.0.0.1. A tide's end is played by
 * `release()` (the control connection closes, as when the kernel closes a killed tide's socket);
 * the real SIGKILL of a real `tide up` is test/chaos/dataplane.chaos.ts's. Every data plane a test
 * starts is stopped in `after`, by the router or, failing that, by SIGKILL of its process group.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { findFreePort } from '../../src/core/free-port.ts'
import { isExitedState, isRunning, readProcStat } from '../../src/core/proc-stat.ts'
import { isAlive, listRecords, logPath, readRecord } from '../../src/router/data-plane-record.ts'
import { stopDataPlanesExcept } from '../../src/router/data-plane-client.ts'
import { Router } from '../../src/router/router.ts'
import { dataPlaneMessage } from '../../src/runtime/backends/local.ts'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { missingBinary } from '../support/system-binaries.ts'
import { killDataPlanes } from '../support/tide-up.ts'
import { healthSpec, request, routingSpec, startBackend, statsWhere, waitFor, type Backend } from './fixtures.ts'

const dirs: string[] = []
const cleanups: (() => Promise<void>)[] = []
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined)
  for (const d of dirs) {
    killDataPlanes(join(d, 'state'))
    rmSync(d, { recursive: true, force: true })
  }
})

/** Live (non-zombie) processes of process group `pgid`. */
function pidsInGroup(pgid: number): number[] {
  const out: number[] = []
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue
    const st = readProcStat(Number(e))
    if (st !== undefined && st.pgrp === pgid && !isExitedState(st.state)) out.push(Number(e))
  }
  return out
}

/** Polls `check` every 50 ms until it holds or `timeoutMs` passes (then the caller's assertion says what). */
async function until(check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50))
}

function stateDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'tide-dp-test-'))
  dirs.push(d)
  return join(d, 'state')
}

async function backends(...names: string[]): Promise<Backend[]> {
  const list = await Promise.all(names.map((n) => startBackend(n)))
  cleanups.push(async () => {
    for (const b of list) await b.close()
  })
  return list
}

function instances(list: readonly Backend[]): { id: string; host: string; port: number; state: 'in-service' }[] {
  return list.map((b) => ({ id: b.name, host: '127.0.0.1', port: b.port, state: 'in-service' as const }))
}

function router(state: string, group: string, routing = routingSpec(), health = healthSpec({ intervalSeconds: 0.1 })): Router {
  const r = new Router({ routing, health, statsIntervalMs: 100, dataPlane: { stateDir: state, group } })
  cleanups.push(() => r.stop({ graceMs: 0 }))
  return r
}

/** Sends requests one after another (a new connection each) until `until` resolves; every answer's status. */
async function loadUntil(port: number, until: Promise<unknown>): Promise<{ statuses: number[]; errors: string[] }> {
  const out = { statuses: [] as number[], errors: [] as string[] }
  let done = false
  void until.finally(() => (done = true))
  while (!done) {
    try {
      out.statuses.push((await request(port, { path: '/x' })).status)
    } catch (err) {
      out.errors.push((err as Error).message)
    }
  }
  return out
}

test('the cores run in a detached process: own process group, record and control socket mode 0600, serving; stop ends it and removes the record', { timeout: 60_000 }, async () => {
  const state = stateDir()
  const [a] = await backends('a')
  const r = router(state, 'g1')
  const { port } = await r.start()
  r.setInstances(instances([a!]))
  await waitFor(r, () => r.health().get('a') === 'healthy')
  const dp = r.dataPlane()
  assert.equal(dp?.kind, 'started')
  const rec = readRecord(state, 'g1')
  assert.ok(rec && rec.pid === dp.pid && rec.pid !== process.pid && rec.port === port)
  // Detached: its own session and process group, so tide's Ctrl-C and death do not reach it.
  assert.equal(readProcStat(rec.pid)?.pgrp, rec.pid)
  assert.equal(statSync(join(state, 'dataplane', 'g1.json')).mode & 0o777, 0o600)
  assert.equal(statSync(rec.socket).mode & 0o777, 0o600)
  assert.equal((await request(port, { path: '/x' })).body, 'a')
  await r.stop({ graceMs: 1000 })
  assert.equal(isAlive(rec), false, 'the data plane exited')
  assert.equal(readRecord(state, 'g1'), undefined)
  await assert.rejects(request(port), /ECONNREFUSED/)
})

test('tide goes away and comes back: requests never fail, the same process is adopted with its table, stats resume', { timeout: 90_000 }, async () => {
  const state = stateDir()
  const list = await backends('a', 'b')
  const first = router(state, 'g2')
  const { port } = await first.start()
  first.setInstances(instances(list))
  await waitFor(first, () => [...first.health().values()].every((h) => h === 'healthy'))
  const pid = first.dataPlane()?.pid
  // Load all along: tide leaves, the data plane serves alone, a new tide attaches and takes over.
  let finish: () => void = () => undefined
  const loaded = loadUntil(port, new Promise<void>((resolve) => (finish = resolve)))
  await first.release()
  await new Promise((resolve) => setTimeout(resolve, 500))
  const second = router(state, 'g2')
  const t0 = Date.now()
  const started = await second.start()
  const attachMs = Date.now() - t0
  const dp = second.dataPlane()
  assert.equal(dp?.kind, 'adopted')
  assert.equal(dp.pid, pid, 'the same data-plane process')
  assert.equal(started.port, port)
  assert.ok(dp.unattendedSinceMs !== undefined && dp.entries?.filter((e) => e.routable).length === 2, `adopted with its table: ${JSON.stringify(dp.entries)}`)
  second.setInstances(instances(list))
  // Seeded from the adopted table: healthy at once, no gap while the first check runs.
  assert.deepEqual([...second.health().values()], ['healthy', 'healthy'])
  const s = await statsWhere(second, (w) => w.total.requests > 0, 200)
  finish()
  const { statuses, errors } = await loaded
  console.log(`release → adopt: ${statuses.length} requests, ${errors.length} errors; start() of the second router took ${attachMs} ms`)
  assert.deepEqual(errors, [])
  assert.ok(statuses.length > 10 && statuses.every((st) => st === 200), `statuses: ${JSON.stringify(statuses.filter((st) => st !== 200))}`)
  assert.ok(s.total.requests > 0)
})

const PRIMARY = fileURLToPath(new URL('./fixtures/primary.ts', import.meta.url))

/** Starts fixtures/primary.ts (a router primary in its own process) and resolves with its port and data-plane pid once it is ready. */
function startPrimary(state: string, group: string, proxy: string, list: readonly Backend[]): Promise<{ kill: () => void; port: number; dataPlanePid: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', PRIMARY, state, group, proxy, JSON.stringify(list.map((b) => ({ id: b.name, port: b.port })))], { stdio: ['ignore', 'pipe', 'pipe'] })
  cleanups.push(() => {
    child.kill('SIGKILL')
    return Promise.resolve()
  })
  return new Promise((resolve, reject) => {
    let out = ''
    let err = ''
    const timer = setTimeout(() => {
      reject(new Error(`primary not ready within 60 s: ${out} ${err}`))
    }, 60_000)
    child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c))
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      out += c
      const m = /ready (\d+) (\d+)/.exec(out)
      if (!m) return
      clearTimeout(timer)
      resolve({ kill: () => child.kill('SIGKILL'), port: Number(m[1]), dataPlanePid: Number(m[2]) })
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`primary exited ${code}: ${out} ${err}`))
    })
  })
}

for (const proxy of ['tide', 'haproxy'] as const) {
  test(`SIGKILL of the primary's process (${proxy}): the data plane serves on, a new primary adopts it, no request fails`, { timeout: 90_000, skip: proxy === 'haproxy' ? missingBinary('haproxy') : false }, async () => {
    const state = stateDir()
    const list = await backends('a', 'b')
    const primary = await startPrimary(state, `k-${proxy}`, proxy, list)
    let finish: () => void = () => undefined
    const loaded = loadUntil(primary.port, new Promise<void>((resolve) => (finish = resolve)))
    await new Promise((resolve) => setTimeout(resolve, 300))
    primary.kill()
    await new Promise((resolve) => setTimeout(resolve, 1000))
    const second = router(state, `k-${proxy}`, routingSpec({ proxy }))
    const { port } = await second.start()
    second.setInstances(instances(list))
    const dp = second.dataPlane()
    await statsWhere(second, (w) => w.total.requests > 0, 200)
    finish()
    const { statuses, errors } = await loaded
    console.log(`SIGKILL of the primary (${proxy}): ${statuses.length} requests, ${errors.length} errors; adopted ${dp?.kind} pid ${dp?.pid} in ${dp?.attachMs} ms`)
    assert.equal(port, primary.port)
    assert.equal(dp?.kind, 'adopted')
    assert.equal(dp.pid, primary.dataPlanePid)
    assert.deepEqual(errors, [])
    assert.ok(statuses.length > 10 && statuses.every((st) => st === 200), `statuses: ${JSON.stringify(statuses.filter((st) => st !== 200))}`)
  })
}

for (const proxy of ['haproxy', 'tide'] as const) {
  test(`a data plane SIGKILLed while no tide is attached leaves nothing behind (${proxy}): the next tide's data plane takes the port, the old one's children are gone`, { timeout: 90_000, skip: proxy === 'haproxy' ? missingBinary('haproxy') : false }, async () => {
    const state = stateDir()
    const [a] = await backends('a')
    const listen = await findFreePort('127.0.0.1', new Set())
    const first = router(state, `o-${proxy}`, routingSpec({ proxy, listen, workers: 2 }))
    await first.start()
    first.setInstances(instances([a!]))
    await waitFor(first, () => first.health().get('a') === 'healthy')
    await first.release() // tide goes away; the data plane serves on
    const dead = readRecord(state, `o-${proxy}`)
    assert.ok(dead)
    // Its children (haproxy, or the proxy's cluster workers) lead no group of their own: they are in the data plane's.
    const children = pidsInGroup(dead.pid).filter((pid) => pid !== dead.pid)
    assert.ok(children.length > 0, 'the data plane runs its proxy in child processes')
    process.kill(dead.pid, 'SIGKILL') // the data plane alone, as an OOM kill would
    await until(() => !isAlive(dead), 10_000)
    const second = router(state, `o-${proxy}`, routingSpec({ proxy, listen, workers: 2 }))
    const { port } = await second.start()
    second.setInstances(instances([a!]))
    await waitFor(second, () => second.health().get('a') === 'healthy')
    assert.equal(port, listen)
    let status = 0
    await until(() => {
      void request(port, { path: '/x' }).then((r) => (status = r.status), () => undefined)
      return status === 200
    }, 30_000)
    assert.equal(status, 200, 'the new data plane serves on the port')
    // HAProxy stays until stopped; the proxy's cluster workers exit on their own within seconds, so
    // for them there may be none left to stop by now.
    const said = second.dataPlane()?.kind === 'started' ? dataPlaneMessage(second.dataPlane()!, `127.0.0.1:${String(port)}`, Date.now()) : ''
    if (proxy === 'haproxy') assert.match(said, /process\(es\) a dead data plane had left running stopped first/)
    else assert.match(said, /^data plane started: /)
    assert.deepEqual(children.filter((pid) => isRunning(pid)), [], 'the dead data plane\'s children were stopped, not left serving an old table on the port')
  })
}

test('on its own, the data plane health-checks: a dead instance is taken out while no tide is attached', { timeout: 60_000 }, async () => {
  const state = stateDir()
  const [a, b] = await backends('a', 'b')
  const r = router(state, 'g3', routingSpec({ retries: 0 }), healthSpec({ intervalSeconds: 0.1, unhealthyThreshold: 2 }))
  const { port } = await r.start()
  r.setInstances(instances([a!, b!]))
  await waitFor(r, () => [...r.health().values()].every((h) => h === 'healthy'))
  await r.release()
  b!.healthStatus = 503
  b!.handler = (_req, res) => res.writeHead(500).end('broken')
  const log = logPath(state, 'g3')
  const deadline = Date.now() + 20_000
  while (!/on its own: instance b healthy → unhealthy/.test(readFileSync(log, 'utf8'))) {
    assert.ok(Date.now() < deadline, `the data plane never took b out: ${readFileSync(log, 'utf8')}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  // Only a answers now (no retries: a request sent to b would fail).
  const bodies = await Promise.all(Array.from({ length: 10 }, () => request(port, { path: '/x' })))
  assert.deepEqual(new Set(bodies.map((x) => `${x.status} ${x.body}`)), new Set(['200 a']))
  assert.match(readFileSync(log, 'utf8'), /tide detached: serving on with the last routing table \(2 entries, 2 routable\)/)
})

const replaced = [
  { name: 'another health section', change: { health: healthSpec({ intervalSeconds: 0.2 }) }, reason: /config hash/ },
  { name: 'another proxy count', change: { routing: routingSpec({ workers: 2 }) }, reason: /config hash/ },
] as const

for (const c of replaced) {
  test(`a data plane built from another config is replaced, saying why: ${c.name}`, { timeout: 90_000 }, async () => {
    const state = stateDir()
    const first = router(state, 'g4')
    await first.start()
    const oldPid = first.dataPlane()?.pid ?? 0
    const oldRecord = readRecord(state, 'g4')
    assert.ok(oldRecord)
    await first.release()
    const second = router(state, 'g4', 'routing' in c.change ? c.change.routing : routingSpec(), 'health' in c.change ? c.change.health : healthSpec({ intervalSeconds: 0.1 }))
    await second.start()
    const dp = second.dataPlane()
    assert.equal(dp?.kind, 'replaced')
    assert.match(dp.reason ?? '', c.reason)
    assert.notEqual(dp.pid, oldPid)
    assert.equal(isAlive(oldRecord), false, 'the old data plane is gone (exited; a zombie until its parent, this test, reaps it)')
  })
}

test('a data plane that dies while tide runs is started again on the same port and gets the table again', { timeout: 90_000 }, async () => {
  const state = stateDir()
  const [a] = await backends('a')
  const r = router(state, 'g6')
  const { port } = await r.start()
  r.setInstances(instances([a!]))
  await waitFor(r, () => r.health().get('a') === 'healthy')
  const before = readRecord(state, 'g6')
  assert.ok(before)
  const exited = new Promise((resolve) => r.once('worker-exit', resolve))
  process.kill(-before.pid, 'SIGKILL')
  await exited
  const deadline = Date.now() + 60_000
  for (;;) {
    const after = readRecord(state, 'g6')
    const reply = after !== undefined && after.pid !== before.pid && after.port === port ? await request(port, { path: '/x' }).catch(() => undefined) : undefined
    if (reply?.status === 200) {
      assert.equal(reply.body, 'a')
      break
    }
    assert.ok(Date.now() < deadline, 'no new data plane serving within 60 s')
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
})

test('stopDataPlanesExcept stops the data plane of a group the config no longer has, and keeps the others', { timeout: 60_000 }, async () => {
  const state = stateDir()
  const kept = router(state, 'kept')
  await kept.start()
  const gone = router(state, 'gone')
  await gone.start()
  await kept.release()
  await gone.release()
  const stopped = await stopDataPlanesExcept(state, new Set(['kept']), 1000)
  assert.deepEqual(stopped.map((s) => s.group), ['gone'])
  assert.deepEqual(listRecords(state).map((r) => r.group), ['kept'])
  assert.ok(listRecords(state).every((r) => isAlive(r)))
})

test('a data plane that cannot listen is TIDE_ERR_ROUTER_LISTEN naming the address, and leaves no record', { timeout: 60_000 }, async () => {
  const state = stateDir()
  const [a] = await backends('a')
  const r = router(state, 'g5', routingSpec({ listen: a!.port }))
  await assert.rejects(r.start(), (err: Error & { code?: string }) => err.code === 'TIDE_ERR_ROUTER_LISTEN' && err.message.includes(`127.0.0.1:${a!.port}`))
  assert.deepEqual(listRecords(state), [])
})
