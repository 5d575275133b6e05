/**
 * The aws backend end to end: the real `tide up` (a child process, argv only) on a config whose
 * one group drives an Auto Scaling group in a real moto server, reached through the SDK's
 * standard AWS_ENDPOINT_URL. The group scales on an external http-json value served on
 * 127.0.0.1 by the test: 300 orders at 100 per instance make the ASG's desired capacity 3 within
 * a few sync periods, the instances show in GET /groups, and 100 orders scale it in to 1 through
 * drain and TerminateInstanceInAutoScalingGroup. Ctrl-C leaves the ASG's instances running
 * (they belong to the ASG, not to tide). Skipped, saying why, without moto_server.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { createGroup, describeGroup, startMoto, TEST_REGION, type Moto } from '../../support/moto.ts'
import { missingBinary } from '../../support/system-binaries.ts'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const BIN = join(ROOT, 'bin/tide.js')
const skip = missingBinary('moto_server')

let moto: Moto | undefined
let stats: Server | undefined
let orders = 300

before(async () => {
  if (skip !== false) return
  moto = await startMoto()
  stats = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ orders }))
  })
  await new Promise<void>((resolve) => stats?.listen(0, '127.0.0.1', resolve))
})

after(async () => {
  await moto?.stop()
  await new Promise<void>((resolve) => {
    if (stats === undefined) resolve()
    else stats.close(() => { resolve() })
  })
})

/** Polls `read` every 250 ms until `done` holds of its value; throws after `timeoutMs`, showing the last value. */
async function until<T>(what: string, read: () => Promise<T>, done: (v: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: T | undefined
  for (;;) {
    last = await read()
    if (done(last)) return last
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${JSON.stringify(last)}`)
    await sleep(250)
  }
}

interface GroupsAnswer {
  readonly groups: readonly { readonly group: string; readonly provider: string; readonly status: { readonly instances: readonly { readonly id: string; readonly phase: string; readonly meta?: Record<string, string> }[] } | null }[]
}

test('tide up drives an Auto Scaling group in moto: out to 3 on the signal, instances in GET /groups, in to 1 through drain and terminate', { skip, timeout: 180_000 }, async () => {
  const m = moto as Moto
  const statsUrl = `http://127.0.0.1:${(stats?.address() as AddressInfo).port}/stats`
  await createGroup(m.url, { name: 'shop-web', min: 0, max: 5, desired: 1 })
  const dir = mkdtempSync(join(tmpdir(), 'tide-up-aws-'))
  const config = join(dir, 'tide.yaml')
  writeFileSync(
    config,
    [
      `store: { path: ${JSON.stringify(join(dir, 'tide.db'))} }`,
      '---',
      'group: shop-web',
      'provider: aws',
      'size: { cpu: 1, memoryMiB: 256 }',
      'replicas: { min: 1, max: 5 }',
      'syncPeriodSeconds: 1',
      'warmupSeconds: 0',
      `metrics: [{ type: external, query: orders, source: { type: http-json, url: ${JSON.stringify(statsUrl)} }, target: { averageValue: 100 } }]`,
      'behavior: { scaleDown: { stabilizationWindowSeconds: 0 } }',
      `aws: { autoScalingGroupName: shop-web, region: ${TEST_REGION}, launchWaitSeconds: 2, hookWaitSeconds: 2 }`,
      '',
    ].join('\n'),
  )
  const env = { ...process.env, TIDE_DEBUG: '', TIDE_API_TOKEN: '', AWS_ENDPOINT_URL: m.url, AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', AWS_REGION: TEST_REGION, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' }
  const child = spawn(process.execPath, [BIN, 'up', '-c', config, '--state-dir', join(dir, 'state'), '--heartbeat', '0', '--api-listen', '0'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c))
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c))
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => { resolve(code); }))
  try {
    const apiLine = await until('the API line', () => Promise.resolve(/^API: (\S+)/m.exec(stdout)?.[1]), (u) => u !== undefined || child.exitCode !== null, 90_000)
    assert.ok(apiLine !== undefined, `tide up exited: ${stdout}\n${stderr}`)
    const api = apiLine

    orders = 300
    const out = await until('desired capacity 3', () => describeGroup(m.url, 'shop-web'), (g) => g.DesiredCapacity === 3 && g.Instances?.length === 3)
    const ids = (out.Instances ?? []).map((i) => i.InstanceId).sort()
    const groups = await until(
      'the three instances in GET /groups',
      async () => (await (await fetch(`${api}/groups`, { signal: AbortSignal.timeout(10_000) })).json()) as GroupsAnswer,
      (g) => g.groups[0]?.status?.instances.length === 3,
    )
    const status = groups.groups[0]?.status
    assert.equal(groups.groups[0]?.provider, 'aws')
    assert.ok(status != null)
    assert.deepEqual(status.instances.map((i) => i.id).sort(), ids)
    for (const i of status.instances) assert.deepEqual([i.meta?.instanceType, i.meta?.lifecycleState], ['t3.micro', 'InService'])

    orders = 100
    const inside = await until('desired capacity 1', () => describeGroup(m.url, 'shop-web'), (x) => x.DesiredCapacity === 1 && x.Instances?.length === 1)
    assert.ok(ids.includes(inside.Instances?.[0]?.InstanceId), 'the survivor is one of the three')
    // tide writes its terminate event once the call returned: AWS may show the result a moment before.
    const events = await until(
      'two terminate events',
      async () => (await (await fetch(`${api}/events?type=drain-start,terminate`, { signal: AbortSignal.timeout(10_000) })).json()) as { events: { type: string; instanceId?: string }[] },
      (e) => e.events.filter((x) => x.type === 'terminate').length >= 2,
      10_000,
    )
    const terminated = events.events.filter((e) => e.type === 'terminate').map((e) => e.instanceId)
    assert.equal(terminated.length, 2, JSON.stringify(events))
    for (const id of terminated) assert.ok(events.events.some((e) => e.type === 'drain-start' && e.instanceId === id), `${id} was drained before it was terminated`)

    child.kill('SIGINT')
    assert.equal(await Promise.race([exited, sleep(60_000).then(() => 'timeout')]), 0, stderr)
    // The ASG's instance outlives tide.
    assert.equal((await describeGroup(m.url, 'shop-web')).Instances?.length, 1)
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
  }
})
