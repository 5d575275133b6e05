/**
 * Chaos: the data plane outlives tide (issue 13). A real `tide up` with a tiny local group under
 * steady load (60 req/s for 20 s, and on until 3 s after the re-attach, half kept-alive connections, half new ones, 127.0.0.1 only):
 * SIGKILL tide 5 s in, keep the load going while it is down (4 s), start it again: it must adopt
 * the same data-plane process (its listen socket never closed), with zero failed requests and no
 * connection reset across the kill and the restart, and resume counting the traffic. The time
 * from the restart to the re-attach is recorded (recoveryMs). Once with tide's own proxy (two
 * cluster workers, the default shape), once with `routing.proxy: haproxy` (skipped, saying why,
 * when haproxy is not installed).
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { recordChaos } from './tally.ts'
import { runDataPlaneKill, type DataPlaneKillOptions } from '../support/data-plane-kill.ts'
import { missingBinary } from '../support/system-binaries.ts'

const cases: readonly { name: string; options: DataPlaneKillOptions; skip: string | false }[] = [
  { name: 'tide proxy, 2 workers', options: { proxy: 'tide', workers: 2, rps: 60, loadSeconds: 20, killAtSeconds: 5, downSeconds: 4 }, skip: false },
  { name: 'haproxy', options: { proxy: 'haproxy', workers: 1, rps: 60, loadSeconds: 20, killAtSeconds: 5, downSeconds: 4 }, skip: missingBinary('haproxy') },
]

for (const c of cases) {
  test(`SIGKILL tide under load, ${c.name}: the data plane serves on, the restarted tide adopts it, no request fails`, { timeout: 300_000, skip: c.skip }, async () => {
    const r = await runDataPlaneKill(c.options)
    const attachMs = /adopted in (\d+) ms/.exec(r.adoptedLine)?.[1] ?? '?'
    console.log(`data plane kill (${c.name}): ${r.sent} sent, ${r.ok} ok, ${r.okWhileDown} ok while tide was down, ${r.failures.length} failed, ${r.resets} resets; re-attach ${r.reattachMs} ms from the restart (the attach itself ${attachMs} ms); pids ${r.pids.join(' → ')}`)
    recordChaos({
      scenario: `SIGKILL tide under load, data plane ${c.name}`,
      faults: 1,
      requestsSent: r.sent,
      requestsFailed: r.failures.length,
      recoveryMs: [r.reattachMs],
      note: `${r.okWhileDown} requests served while tide was down; re-attach = restart to 'data plane adopted' (the attach itself: ${attachMs} ms)`,
    })
    assert.deepEqual(r.failures, [], 'no request fails across the kill and the restart')
    assert.equal(r.resets, 0)
    assert.ok(r.okWhileDown >= c.options.rps * c.options.downSeconds * 0.8, `only ${r.okWhileDown} requests served while tide was down`)
    assert.ok(r.pids[0] > 0 && r.pids[0] === r.pids[1], `the same data plane before and after (${r.pids.join(' → ')})`)
    assert.match(r.adoptedLine, /its listen socket was never closed/)
    assert.notEqual(r.statsLine, '', 'the restarted tide counts the traffic again (a heartbeat with req/s after the adoption)')
    assert.equal(r.leftRunning, 0, 'a clean stop of the restarted tide stops the data plane')
  })
}
