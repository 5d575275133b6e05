/**
 * `tide standby` against a real tide (two local instances of the tiny server behind tide's real
 * router, ticked by hand) serving its API over real HTTP on 127.0.0.1, under real HTTP load
 * through the router: the instance leaves the targets after its requests finish, keeps running,
 * gets no request while in standby, and is routed again after `--exit`, with no failed request
 * throughout. Usage and refusals a script can rely on.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import type { ApiServer } from '../../src/api/server.ts'
import type { CommandTable } from '../../src/cli/args.ts'
import { serveApi, startTinyTide, type RunningTide } from '../support/running-tide.ts'
import { commandRunner } from '../support/run-tide.ts'

const TOKEN = 'cli-standby-test-token'
const table: CommandTable = { standby: () => import('../../src/cli/standby.ts') }
let tide: RunningTide
let server: ApiServer

/** Runs `tide ARGV` in process; its exit status and output. */
const tide_ = commandRunner(table, { TIDE_API_TOKEN: TOKEN })

before(async () => {
  tide = await startTinyTide('web', { replicas: { min: 1, max: 3, initial: 2 } })
  server = await serveApi(tide, TOKEN)
  await tide.tickUntil('two instances in service', () => tide.runtime.controller.status('web')?.instances.filter((i) => i.phase === 'in-service').length === 2)
})

after(async () => {
  await server.close()
  await tide.stop()
})

/** Steady HTTP load through the router (4 requests at a time) until stopped: the answers by the instance pid that served them, and the failures. */
function load(url: string): { readonly byPid: Map<number, number>; readonly failures: string[]; total(): number; stop(): Promise<void> } {
  const byPid = new Map<number, number>()
  const failures: string[] = []
  let running = true
  const worker = async (): Promise<void> => {
    while (running) {
      try {
        const res = await fetch(`${url}/env`, { signal: AbortSignal.timeout(5000) })
        const text = await res.text()
        if (res.status !== 200) failures.push(`HTTP ${res.status}: ${text.slice(0, 100)}`)
        else {
          const pid = (JSON.parse(text) as { pid: number }).pid
          byPid.set(pid, (byPid.get(pid) ?? 0) + 1)
        }
      } catch (err) {
        failures.push(err instanceof Error ? err.message : String(err))
      }
    }
  }
  const workers = Array.from({ length: 4 }, () => worker())
  return {
    byPid,
    failures,
    total: () => [...byPid.values()].reduce((a, b) => a + b, 0),
    async stop() {
      running = false
      await Promise.all(workers)
    },
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

test('standby and back under load through the router: no failed request, no request while in standby, routed again after --exit', { timeout: 120_000 }, async () => {
  const status = () => tide.runtime.controller.status('web')
  const target = status()?.instances.find((i) => i.phase === 'in-service')
  assert.ok(target)
  const pid = Number(target.meta?.pid)
  assert.ok(pid > 0, JSON.stringify(target.meta))
  const url = tide.runtime.endpoints().find((e) => e.group === 'web')?.url ?? ''
  const traffic = load(url)
  try {
    await tide.tickUntil('both instances serving requests', () => traffic.byPid.size === 2 && (traffic.byPid.get(pid) ?? 0) > 20, 30_000, 200)
    const entered = await tide_(['standby', 'web', target.id, '--api', server.url])
    assert.equal(entered.code, 0, entered.stderr)
    assert.equal(entered.stdout, `web: instance ${target.id} entering standby by the operator: drained, then out of the router's targets; it keeps running. Desired 2→1: nothing replaces it\n`)
    await tide.tickUntil('drained and in standby', async () => (await tide.runtime.store.readEvents({ group: 'web', types: ['instance-standby'] })).some((e) => e.message.endsWith("no request in flight, out of the router's targets")), 30_000, 200)
    await tide.runtime.tick()
    const atDrain = traffic.byPid.get(pid) ?? 0
    const totalAtDrain = traffic.total()
    for (let i = 0; i < 6; i++) {
      await sleep(250)
      await tide.runtime.tick()
    }
    assert.ok(traffic.total() > totalAtDrain + 20, 'the other instance kept serving')
    assert.equal(traffic.byPid.get(pid) ?? 0, atDrain, 'no request reached the instance in standby')
    const s = status()
    assert.equal(s?.instances.find((i) => i.id === target.id)?.phase, 'standby')
    assert.equal(s.desiredReplicas, 1)
    assert.equal(s.instances.filter((i) => i.phase === 'in-service').length, 1, 'decremented: no replacement')
    process.kill(pid, 0) // it keeps running (throws if it does not)

    const back = await tide_(['standby', 'web', target.id, '--exit', '--api', server.url])
    assert.equal(back.code, 0, back.stderr)
    assert.equal(back.stdout, `web: instance ${target.id} back in service by the operator: health-checked, then routed. Desired 1→2\n`)
    await tide.tickUntil('the instance serving again', () => (traffic.byPid.get(pid) ?? 0) > atDrain + 20, 30_000, 200)
    assert.equal(status()?.instances.find((i) => i.id === target.id)?.phase, 'in-service')
  } finally {
    await traffic.stop()
  }
  assert.deepEqual(traffic.failures, [], 'no failed request across standby and back')
  assert.ok(traffic.total() > 200, `${traffic.total()} requests`)
})

const failures = [
  { name: '--exit with --no-decrement', argv: ['standby', 'web', 'web-x', '--exit', '--no-decrement'], code: 2, stderr: /--no-decrement is for entering standby/ },
  { name: 'an unknown instance', argv: ['standby', 'web', 'web-nope'], code: 1, stderr: /TIDE_ERR_API_NOT_FOUND: group web has no instance web-nope/ },
  { name: 'no instance named', argv: ['standby', 'web'], code: 2, stderr: /INSTANCE/ },
] as const
for (const c of failures) {
  test(`tide standby: ${c.name} → exit ${c.code}`, async () => {
    const r = await tide_([...c.argv, '--api', server.url])
    assert.equal(r.code, c.code, r.stderr)
    assert.match(r.stderr, c.stderr)
  })
}

test('tide standby: an instance not in standby cannot --exit (exit 1, the reason)', async () => {
  const id = tide.runtime.controller.status('web')?.instances.find((i) => i.phase === 'in-service')?.id ?? ''
  const r = await tide_(['standby', 'web', id, '--exit', '--api', server.url])
  assert.equal(r.code, 1)
  assert.match(r.stderr, new RegExp(`TIDE_ERR_API_CONFLICT: instance ${id} is not in standby`))
})
