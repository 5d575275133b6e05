import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { isProviderError } from '../../../src/providers/errors.ts'
import { FileInstanceRegistry } from '../../../src/providers/local/file-registry.ts'
import { LocalProvider, launchErrorOf } from '../../../src/providers/local/local-provider.ts'
import { isExitedState, readProcStat } from '../../../src/core/proc-stat.ts'
import { ProcessSampler } from '../../../src/metrics/process-sampler.ts'
import { trackedProcessOf } from '../../../src/metrics/process-stats.ts'
import type { InstanceRecord } from '../../../src/providers/provider.ts'
import { GroupSchema } from '../../../src/spec/schema.ts'
import type { GroupInput, GroupSpec } from '../../../src/spec/schema.ts'
import { runProviderContract } from '../provider.contract.ts'
import type { ContractEnv } from '../provider.contract.ts'

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url))
const tinyServer = fileURLToPath(new URL('../fixtures/tiny-server.ts', import.meta.url))
const tsxNode = [process.execPath, '--import', 'tsx']

function groupOf(name: string, command: string[], env: Record<string, string> = {}, extra: Partial<GroupInput> = {}): GroupSpec {
  return GroupSchema.parse({ group: name, provider: 'local', launch: { command, env, cwd: repoRoot }, ...extra })
}

/** A temp state dir with a JSON-file registry; every provider object made here shares it. */
function localEnv(group: GroupSpec, stopTimeoutMs = 10_000): ContractEnv & { dir: string; registry: FileInstanceRegistry } {
  const dir = mkdtempSync(join(tmpdir(), 'tide-local-'))
  const registry = new FileInstanceRegistry(join(dir, 'instances.json'))
  return {
    dir,
    registry,
    group,
    newProvider: () => new LocalProvider({ registry, stateDir: dir, stopTimeoutMs }),
    cleanup: () => {
      rmSync(dir, { recursive: true, force: true })
      return Promise.resolve()
    },
  }
}

async function untilStatus(p: LocalProvider, group: GroupSpec, id: string, status: InstanceRecord['status']): Promise<InstanceRecord> {
  let last: InstanceRecord | undefined
  for (let i = 0; i < 600; i++) {
    last = (await p.list(group)).find((r) => r.id === id)
    if (last?.status === status) return last
    await sleep(100)
  }
  assert.fail(`instance ${id} never reached ${status}; last ${JSON.stringify(last)}`)
}

runProviderContract('local (tiny node:http server)', () => localEnv(groupOf('tiny', [...tsxNode, tinyServer])))

runProviderContract('local (the demo shop)', () => {
  const dbDir = mkdtempSync(join(tmpdir(), 'tide-shop-db-'))
  const env = localEnv(groupOf('shop', [...tsxNode, 'examples/shop/server.ts'], { SHOP_DB: join(dbDir, 'shop.db'), SHOP_WORK_MS: '1' }))
  return {
    ...env,
    cleanup: async () => {
      await env.cleanup()
      rmSync(dbDir, { recursive: true, force: true })
    },
  }
}, { size: { cpu: 0.5, memoryMiB: 256 } })

describe('local provider specifics', () => {
  const group = groupOf('spec', [...tsxNode, tinyServer], { FIXTURE_LABEL: 'blue' })
  let env: ReturnType<typeof localEnv>
  let provider: LocalProvider

  before(() => {
    env = localEnv(group, 400)
    provider = new LocalProvider({ registry: env.registry, stateDir: env.dir, stopTimeoutMs: 400 })
  })
  after(async () => {
    for (const r of await provider.list(group)) await provider.terminate(group, r.id)
    await env.cleanup()
  })

  test('the instance gets PORT, TIDE_CPU, TIDE_MEMORY_MIB and launch.env, runs detached, and logs to its file', async () => {
    const [r] = await provider.launch(group, { cpu: 1.5, memoryMiB: 384 }, 1)
    const running = await untilStatus(provider, group, r!.id, 'running')
    const res = await fetch(`http://127.0.0.1:${running.address!.port}/env`)
    const body = (await res.json()) as { pid: number; env: Record<string, string> }
    assert.equal(body.env.PORT, String(running.address!.port))
    assert.equal(body.env.TIDE_CPU, '1.5')
    assert.equal(body.env.TIDE_MEMORY_MIB, '384')
    assert.equal(body.env.TIDE_INSTANCE_ID, r!.id)
    assert.equal(body.env.FIXTURE_LABEL, 'blue')
    assert.equal(String(body.pid), running.meta!.pid)
    const stat = readProcStat(body.pid)!
    assert.equal(stat.pgrp, body.pid, 'the instance leads its own process group')
    assert.notEqual(stat.pgrp, readProcStat(process.pid)!.pgrp)
    assert.match(readFileSync(running.meta!.logPath!, 'utf8'), /tiny-server listening/)
    await provider.terminate(group, r!.id)
    assert.match(readFileSync(running.meta!.logPath!, 'utf8'), /tiny-server stopping/)
  })

  test('kill -9 of an instance makes list report it failed, kept until terminate', async () => {
    const [r] = await provider.launch(group, group.size, 1)
    const running = await untilStatus(provider, group, r!.id, 'running')
    process.kill(Number(running.meta!.pid), 'SIGKILL')
    const failed = await untilStatus(provider, group, r!.id, 'failed')
    assert.equal(failed.readyAtMs, undefined)
    assert.equal(failed.meta!.exit, 'signal SIGKILL')
    // A fresh object (no in-memory knowledge of the exit) says the same.
    assert.equal((await env.newProvider().list(group)).find((x) => x.id === r!.id)?.status, 'failed')
    await provider.terminate(group, r!.id)
    assert.equal((await provider.list(group)).length, 0)
  })

  test('a recorded pid now used by another process is reported failed and never signalled', async () => {
    // A live process that is not ours stands in for a recycled pid: same pid, other start time.
    const stranger = spawn('sleep', ['30'], { stdio: 'ignore' })
    await new Promise((resolve) => stranger.once('spawn', resolve))
    try {
      const pid = stranger.pid!
      const realStart = readProcStat(pid)!.startTime
      env.registry.put({ id: 'spec-recycled', group: 'spec', pid, startTime: String(Number(realStart) - 1), port: 1, size: group.size, launchedAtMs: 1, logPath: join(env.dir, 'x.log') })
      const rs = await env.newProvider().list(group)
      assert.deepEqual(rs.map((r) => [r.id, r.status]), [['spec-recycled', 'failed']])
      await provider.terminate(group, 'spec-recycled')
      assert.equal(readProcStat(pid)?.startTime, realStart, 'the stranger still runs')
      assert.notEqual(readProcStat(pid)?.state, 'Z')
      assert.equal((await provider.list(group)).length, 0)
    } finally {
      stranger.kill('SIGKILL')
    }
  })

  test('an instance that ignores SIGTERM is killed after the stop timeout', async () => {
    const stubborn = groupOf('spec', [...tsxNode, tinyServer], { FIXTURE_IGNORE_SIGTERM: '1' })
    const [r] = await provider.launch(stubborn, stubborn.size, 1)
    const running = await untilStatus(provider, stubborn, r!.id, 'running')
    const pid = Number(running.meta!.pid)
    await provider.terminate(stubborn, r!.id)
    const stat = readProcStat(pid)
    assert.ok(stat === undefined || stat.state === 'Z' || stat.startTime !== running.meta!.startTime, 'process is gone')
    assert.match(readFileSync(running.meta!.logPath!, 'utf8'), /ignoring SIGTERM/)
    assert.equal((await provider.list(stubborn)).length, 0)
  })

  test('an instance whose health path fails stays starting', async () => {
    const sick = groupOf('spec', [...tsxNode, tinyServer], { FIXTURE_UNHEALTHY: '1' })
    const [r] = await provider.launch(sick, sick.size, 1)
    // Wait until it listens (its /env answers), then check that list() still says starting.
    const port = r!.address!.port
    for (let i = 0; i < 600; i++) {
      const ok = await fetch(`http://127.0.0.1:${port}/env`).then((x) => x.ok, () => false)
      if (ok) break
      await sleep(100)
    }
    const rs = await provider.list(sick)
    assert.equal(rs.find((x) => x.id === r!.id)?.status, 'starting')
    await provider.terminate(sick, r!.id)
  })

  test('a terminate interrupted by a tide crash is completed by the next list', async () => {
    const [r] = await provider.launch(group, group.size, 1)
    const running = await untilStatus(provider, group, r!.id, 'running')
    const entry = env.registry.list('spec').find((e) => e.id === r!.id)!
    // As if tide marked it stopping, signalled it, and died before removing the record.
    env.registry.put({ ...entry, stoppingAtMs: Date.now() })
    assert.equal((await provider.list(group)).find((x) => x.id === r!.id)?.status, 'stopping')
    process.kill(Number(running.meta!.pid), 'SIGTERM')
    for (let i = 0; i < 600 && (await provider.list(group)).length > 0; i++) await sleep(100)
    assert.deepEqual(await provider.list(group), [])
    assert.deepEqual(env.registry.list('spec'), [])
  })

  test('a command that does not exist is a LaunchFailedError naming it, and records nothing', async () => {
    const bad = groupOf('spec', ['/nonexistent/tide-no-such-binary'])
    await assert.rejects(provider.launch(bad, bad.size, 1), (err: unknown) => {
      assert.ok(isProviderError(err, 'TIDE_ERR_PROVIDER_LAUNCH'))
      assert.match(err.message, /tide-no-such-binary/)
      assert.match(err.message, /ENOENT/)
      assert.equal(err.retryable, false)
      return true
    })
    assert.deepEqual(await provider.list(bad), [])
  })

  test('a group without launch.command is a ProviderConfigError', async () => {
    const noLaunch = { ...group, launch: undefined } as unknown as GroupSpec
    await assert.rejects(provider.launch(noLaunch, group.size, 1), (err: unknown) => isProviderError(err, 'TIDE_ERR_PROVIDER_CONFIG'))
  })

  test('instances survive the provider object: the registry file is all a restart needs', async () => {
    const [r] = await provider.launch(group, group.size, 1)
    await untilStatus(provider, group, r!.id, 'running')
    assert.ok(existsSync(env.registry.path))
    const reread = new FileInstanceRegistry(env.registry.path)
    const p2 = new LocalProvider({ registry: reread, stateDir: env.dir })
    assert.deepEqual((await p2.list(group)).map((x) => [x.id, x.status]), [[r!.id, 'running']])
    await p2.terminate(group, r!.id)
  })
})

describe('local provider with the process sampler', () => {
  test("a loaded shop's cpu (its work threads included) and memory show in the sampler", async () => {
    const dbDir = mkdtempSync(join(tmpdir(), 'tide-shop-db-'))
    const shopGroup = groupOf('shop-load', [...tsxNode, 'examples/shop/server.ts'], { SHOP_DB: join(dbDir, 'shop.db'), SHOP_WORK_MS: '5' })
    const env = localEnv(shopGroup)
    const p = new LocalProvider({ registry: env.registry, stateDir: env.dir })
    try {
      const [r] = await p.launch(shopGroup, { cpu: 1, memoryMiB: 256 }, 1)
      const running = await untilStatus(p, shopGroup, r!.id, 'running')
      const sampler = new ProcessSampler()
      sampler.start((id) => (id === running.id ? trackedProcessOf(running) : undefined))
      sampler.stop() // samples are taken by hand around the load
      assert.equal(sampler.read(running.id), undefined, 'unknown until sampled')
      sampler.sampleOnce()
      // Bounded load: 150 product pages of 5 ms cpu each, 5 at a time (≈ 0.75 cpu-seconds in the work threads).
      for (let i = 0; i < 30; i++) {
        await Promise.all([1, 2, 3, 4, 5].map((k) => fetch(`http://127.0.0.1:${running.address!.port}/products/${k}`).then((x) => x.text())))
      }
      sampler.sampleOnce()
      const s = sampler.latest(running.id)!
      assert.ok((s.cpuRatio ?? 0) > 0, `cpuRatio ${String(s.cpuRatio)}`)
      assert.ok(s.memoryMiB > 10, `memory ${s.memoryMiB} MiB`)
      // The work threads are threads of the one process, not processes of their own; tsx may
      // still run its esbuild service as a child of the instance at the moment of the sample.
      assert.ok(s.processes === 1 || s.processes === 2, `processes ${String(s.processes)}: work threads are threads of the one process`)
    } finally {
      for (const x of await p.list(shopGroup)) await p.terminate(shopGroup, x.id)
      await env.cleanup()
      rmSync(dbDir, { recursive: true, force: true })
    }
  })
})

describe('local provider across a tide crash', () => {
  test('instances launched by a tide process killed with SIGKILL keep serving and are adopted by the next one', async () => {
    const env = localEnv(groupOf('crash', [...tsxNode, tinyServer]))
    const fakeTide = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('../fixtures/tide-that-dies.ts', import.meta.url)), env.registry.path, env.dir], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    try {
      const [line] = (await once(createInterface({ input: fakeTide.stdout }), 'line')) as [string]
      const { id } = JSON.parse(line) as { id: string }
      fakeTide.kill('SIGKILL')
      await once(fakeTide, 'exit')
      const restarted = env.newProvider()
      const rs = await restarted.list(env.group)
      assert.deepEqual(rs.map((r) => [r.id, r.status]), [[id, 'running']])
      const res = await fetch(`http://127.0.0.1:${rs[0]!.address!.port}/healthz`)
      assert.equal(res.status, 200, 'the orphaned instance still serves')
      await restarted.terminate(env.group, id)
      assert.deepEqual(await restarted.list(env.group), [])
    } finally {
      fakeTide.kill('SIGKILL')
      for (const r of await env.newProvider().list(env.group)) await env.newProvider().terminate(env.group, r.id)
      await env.cleanup()
    }
  })

  test('an instance spawned by a tide killed before it recorded it is found and recorded by the next one, then terminates like any other', async () => {
    const env = localEnv(groupOf('crash', [...tsxNode, tinyServer]))
    // TIDE_CRASH_AT kills the fake tide between spawning the instance and recording it.
    const fakeTide = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('../fixtures/tide-that-dies.ts', import.meta.url)), env.registry.path, env.dir], {
      cwd: repoRoot,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, TIDE_CRASH_AT: 'scale-out:spawned' },
    })
    let stderr = ''
    fakeTide.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    try {
      const [, signal] = (await once(fakeTide, 'exit')) as [number | null, NodeJS.Signals | null]
      assert.equal(signal, 'SIGKILL', `the fake tide died at the crash point: ${stderr}`)
      assert.match(stderr, /scale-out:spawned/)
      assert.deepEqual(new FileInstanceRegistry(env.registry.path).list('crash'), [], 'killed before recording the instance')
      const restarted = new LocalProvider({ registry: env.registry, stateDir: env.dir })
      const [found, ...more] = await restarted.list(env.group)
      assert.ok(found, 'the unrecorded instance is found')
      assert.deepEqual(more, [])
      assert.match(found.id, /^crash-[0-9a-f]{8}$/)
      const running = await untilStatus(restarted, env.group, found.id, 'running')
      const res = await fetch(`http://127.0.0.1:${running.address!.port}/healthz`)
      assert.equal(res.status, 200, 'the instance serves')
      assert.deepEqual(new FileInstanceRegistry(env.registry.path).list('crash').map((e) => e.id), [found.id], 'now recorded, for every later tide')
      const pid = Number(running.meta?.pid)
      await restarted.terminate(env.group, found.id)
      assert.deepEqual(await restarted.list(env.group), [])
      const after = readProcStat(pid)
      assert.ok(after === undefined || isExitedState(after.state), `the process is gone (${after?.state ?? 'no /proc entry'})`)
    } finally {
      fakeTide.kill('SIGKILL')
      for (const r of await env.newProvider().list(env.group)) await env.newProvider().terminate(env.group, r.id)
      await env.cleanup()
    }
  })

  test("tide's own secrets are withheld from instances; launch.env can still set a variable", async () => {
    // HOME stands in for a secret: present in this process, withheld from the instance.
    assert.ok(process.env.HOME !== undefined)
    const g = groupOf('secret', [...tsxNode, tinyServer], { FIXTURE_SHOW: 'HOME,TIDE_API_TOKEN', TIDE_API_TOKEN: 'set-on-purpose' })
    const env = localEnv(g)
    const p = new LocalProvider({ registry: env.registry, stateDir: env.dir, withholdEnv: ['HOME'] })
    try {
      const [r] = await p.launch(g, g.size, 1)
      const running = await untilStatus(p, g, r!.id, 'running')
      const body = (await (await fetch(`http://127.0.0.1:${running.address!.port}/env`)).json()) as { env: Record<string, string> }
      assert.equal(body.env.HOME, undefined)
      assert.equal(body.env.TIDE_API_TOKEN, 'set-on-purpose')
    } finally {
      for (const x of await p.list(g)) await p.terminate(g, x.id)
      await env.cleanup()
    }
  })
})

test('an instance that dies on start is failed with its exit code and the end of its log in meta', async () => {
  const group = groupOf('dies', [process.execPath, '-e', "console.log('starting'); console.error('Error: SHOP_DB is not set'); process.exit(3)"])
  const env = localEnv(group)
  try {
    const provider = new LocalProvider({ registry: env.registry, stateDir: env.dir })
    const [r] = await provider.launch(group, group.size, 1)
    const failed = await untilStatus(provider, group, r!.id, 'failed')
    assert.equal(failed.meta!.exit, 'code 3')
    assert.equal(failed.meta!.logTail, 'starting\nError: SHOP_DB is not set')
    await provider.terminate(group, r!.id)
  } finally {
    await env.cleanup()
  }
})

/** An errno error as Node's spawn or a bind reports it. */
const errno = (code: string): NodeJS.ErrnoException => Object.assign(new Error(`spawn ${code}`), { code })

// What each failed launch step becomes: the machine out of room is a capacity shortage (the
// controller backs that size off), a command that cannot run needs a fix.
const launchErrorCases = [
  { name: 'no process slot (EAGAIN) is no room', step: { command: 'node' }, err: errno('EAGAIN'), code: 'TIDE_ERR_PROVIDER_CAPACITY', retryable: true, message: 'group web: cannot start node: EAGAIN (this machine has no room for another instance now)' },
  { name: 'no memory to fork (ENOMEM) is no room', step: { command: 'node' }, err: errno('ENOMEM'), code: 'TIDE_ERR_PROVIDER_CAPACITY', retryable: true, message: 'group web: cannot start node: ENOMEM (this machine has no room for another instance now)' },
  { name: 'no file descriptor (EMFILE) is no room', step: { command: 'node' }, err: errno('EMFILE'), code: 'TIDE_ERR_PROVIDER_CAPACITY', retryable: true, message: 'group web: cannot start node: EMFILE (this machine has no room for another instance now)' },
  { name: 'a missing executable (ENOENT) needs a fix', step: { command: '/no/such' }, err: errno('ENOENT'), code: 'TIDE_ERR_PROVIDER_LAUNCH', retryable: false, message: 'group web: cannot start /no/such: ENOENT' },
  { name: 'a command without permission (EACCES) needs a fix', step: { command: './run.sh' }, err: errno('EACCES'), code: 'TIDE_ERR_PROVIDER_LAUNCH', retryable: false, message: 'group web: cannot start ./run.sh: EACCES' },
  {
    name: 'a port search that ran out of candidates is no room',
    step: 'port',
    err: new Error('no free port on 127.0.0.1 outside the 3 ports already in use after 20 attempts'),
    code: 'TIDE_ERR_PROVIDER_CAPACITY',
    retryable: true,
    message: 'group web: port search: no free port on 127.0.0.1 outside the 3 ports already in use after 20 attempts (this machine has no room for another instance now)',
  },
  { name: 'a port search on a host that is not this machine’s stays a retryable launch failure', step: 'port', err: errno('EADDRNOTAVAIL'), code: 'TIDE_ERR_PROVIDER_LAUNCH', retryable: true, message: 'group web: port search: EADDRNOTAVAIL' },
] as const
for (const c of launchErrorCases) {
  test(`launchErrorOf: ${c.name}`, () => {
    const e = launchErrorOf('web', c.step, c.err)
    assert.equal(e.code, c.code)
    assert.equal(e.retryable, c.retryable)
    assert.equal(e.message, c.message)
    assert.equal(e.cause, c.err)
  })
}
