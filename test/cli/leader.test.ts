/**
 * `tide up --leader-lease`: two real tide processes over the fake API server
 * (test/support/fake-kube-apiserver.ts) with the default 12 s lease. One leads and scales the
 * Deployment, the other waits and never acts; the leader is killed (SIGKILL, no hand-over) and
 * the follower takes over within the lease's bound and acts; a clean stop hands the lease back.
 */
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { KubeQueueFixture } from '../support/kube-queue-fixture.ts'
import { tideUp, type UpRun } from '../support/tide-up.ts'

const fixture = new KubeQueueFixture({ fake: { startDelayMs: 100, terminationDelayMs: 50 }, depth: 20, dirPrefix: 'tide-leader-' })

before(() => fixture.start())
after(() => fixture.stop())

const replicas = (): number => fixture.replicas()
const holder = (): string | undefined => (fixture.fake.get('leases', 'default', 'tide')?.spec as { holderIdentity?: string } | undefined)?.holderIdentity

async function until(what: string, check: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms
  while (Date.now() < end) {
    if (check()) return
    await sleep(100)
  }
  assert.fail(`${what}: not within ${ms} ms`)
}

test('two tide replicas: only the lease holder acts; the leader killed, the follower takes over within the lease and acts', { timeout: 120_000 }, async (t) => {
  const dir = fixture.dir
  const env = (pod: string) => ({ KUBECONFIG: fixture.kubeconfigPath, TIDE_API_TOKEN: '', POD_NAME: pod })
  // A config of its own per replica (each its own store, as two pods would have).
  const args = (name: string) => ['-c', fixture.writeConfig(name), '--state-dir', join(dir, `${name}-state`), '--heartbeat', '0', '--no-api', '--leader-lease', 'default/tide']
  const a = tideUp(args('a'), dir, env('tide-a'))
  let follower: UpRun | undefined
  try {
    await a.waitForLine(/^leading: lease default\/tide held by tide-a$/, 30_000)
    const b = tideUp(args('b'), dir, env('tide-b'))
    follower = b
    await b.waitForLine(/^waiting: lease default\/tide is held by tide-a$/, 30_000)
    // 20 queued ÷ 10 per pod = 2: the leader acts.
    await until('the leader scales to 2', () => replicas() === 2, 30_000)
    assert.equal(holder(), 'tide-a')

    // The follower never acts: a lower demand is the leader's alone to act on; kill the leader first.
    const killedAt = Date.now()
    a.signal('SIGKILL') // a crash: no hand-over of the lease
    await a.exited
    fixture.depth = 30
    await b.waitForLine(/^leading: lease default\/tide held by tide-b$/, 25_000)
    const tookMs = Date.now() - killedAt
    t.diagnostic(`the follower took over ${String(tookMs)} ms after the leader was killed`)
    // Expected: lease 12 s + one read (1 s) after the last renewal, at most 2 s before the kill: 10 to 13 s.
    // The upper bound leaves slack for a loaded machine; the diagnostic above is the measurement.
    assert.ok(tookMs <= 17_000, `the follower took over after ${tookMs} ms`)
    assert.ok(tookMs >= 9_000, `the follower took over after only ${tookMs} ms: before the lease could have run out`)
    assert.ok(!b.lines.slice(0, b.lines.findIndex((l) => l.startsWith('leading:'))).some((l) => / web (launch|scale|decision)/.test(l)), 'the follower acted before it led')
    await until('the new leader scales to 3', () => replicas() === 3, 30_000)
    assert.equal(holder(), 'tide-b')

    // A clean stop hands the lease over: the holder is emptied.
    assert.equal(await b.stop(), 0, b.stderr())
    assert.equal(holder(), '')
    assert.equal(replicas(), 3, 'the pods are left running')
  } finally {
    await a.stop()
    await follower?.stop()
  }
})
