/**
 * The contract every provider passes (STYLE.md §7, as hono's common.case.test.ts):
 * launch 2 → list shows them, eventually running → terminate 1 → list shows 1 →
 * terminate again is fine → a NEW provider object over the same persistent state
 * lists the survivor without relaunching it. Call runProviderContract() from a
 * provider's own test file; it registers a describe() block.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import type { InstanceRecord, Provider } from '../../src/providers/provider.ts'
import type { GroupSpec, Size } from '../../src/spec/schema.ts'

/** What a provider's test hands the contract: a group, and a way to make provider objects over one common state. */
export interface ContractEnv {
  /** The group every call uses; it must be launchable by the provider. */
  readonly group: GroupSpec
  /** A new provider object over the same persistent state (registry, store, cluster): a tide restart. */
  newProvider(): Provider
  /**
   * Lets time pass between two polls of list(): a real wait for real processes, a
   * clock advance for a simulated provider. Default: 100 ms of real time.
   */
  tick?(): Promise<void>
  /** Stops whatever the test left running and removes temporary files. */
  cleanup(): Promise<void>
}

/** Knobs of the contract. Each entry of `skip` says why the check does not apply. */
export interface ContractOptions {
  /** The size to launch. Default { cpu: 1, memoryMiB: 256 }. */
  readonly size?: Size
  /** How many ticks to wait for 'running' before failing. Default 600 (60 s with the default tick: generous, as a loaded machine starts processes slowly). */
  readonly maxTicks?: number
  readonly skip?: { readonly adoption?: string }
}

/** Registers the provider contract as a describe() block named after the provider. */
export function runProviderContract(name: string, makeEnv: () => Promise<ContractEnv> | ContractEnv, options: ContractOptions = {}): void {
  const size: Size = options.size ?? { cpu: 1, memoryMiB: 256 }
  const maxTicks = options.maxTicks ?? 600

  describe(`provider contract: ${name}`, () => {
    let env: ContractEnv
    let provider: Provider
    let launched: InstanceRecord[] = []
    let survivor: InstanceRecord | undefined

    const tick = (): Promise<void> => (env.tick ? env.tick() : sleep(100))

    /** Polls list() until `done` holds for its result; fails after maxTicks polls, showing the last result. */
    const listUntil = async (p: Provider, what: string, done: (rs: InstanceRecord[]) => boolean): Promise<InstanceRecord[]> => {
      let last: InstanceRecord[] = []
      for (let i = 0; i < maxTicks; i++) {
        last = await p.list(env.group)
        if (done(last)) return last
        await tick()
      }
      assert.fail(`${what}: not reached after ${maxTicks} polls; last list: ${JSON.stringify(last.map((r) => [r.id, r.status]))}`)
    }

    before(async () => {
      env = await makeEnv()
      provider = env.newProvider()
    })

    after(async () => {
      const p = env.newProvider()
      for (const r of await p.list(env.group)) await p.terminate(env.group, r.id)
      await env.cleanup()
    })

    test('declares its capabilities', () => {
      assert.ok(['in-place', 'replace', 'none'].includes(provider.capabilities.resize))
      assert.equal(typeof provider.capabilities.adopts, 'boolean')
      assert.equal(typeof provider.name, 'string')
    })

    test('an empty group lists nothing and launching 0 starts nothing', async () => {
      assert.deepEqual(await provider.list(env.group), [])
      assert.deepEqual(await provider.launch(env.group, size, 0), [])
      assert.deepEqual(await provider.list(env.group), [])
    })

    test('launch 2 returns 2 distinct instances of the group and size, starting or running', async () => {
      launched = await provider.launch(env.group, size, 2)
      assert.equal(launched.length, 2)
      assert.notEqual(launched[0]!.id, launched[1]!.id)
      for (const r of launched) {
        assert.equal(r.group, env.group.group)
        assert.deepEqual(r.size, size)
        assert.ok(r.status === 'starting' || r.status === 'running', `status ${r.status}`)
      }
    })

    test('list shows both, eventually running, ready no earlier than launched', async () => {
      const ids = launched.map((r) => r.id).sort()
      const rs = await listUntil(provider, 'both running', (l) => l.length === 2 && l.every((r) => r.status === 'running'))
      assert.deepEqual(rs.map((r) => r.id).sort(), ids)
      for (const r of rs) {
        assert.ok(r.readyAtMs !== undefined && r.readyAtMs >= r.launchedAtMs, `readyAtMs ${String(r.readyAtMs)} launchedAtMs ${r.launchedAtMs}`)
      }
    })

    test('terminate 1 leaves exactly the other in the list', async () => {
      const [gone, kept] = launched as [InstanceRecord, InstanceRecord]
      await provider.terminate(env.group, gone.id)
      const rs = await listUntil(provider, 'one left', (l) => l.length === 1)
      assert.equal(rs[0]!.id, kept.id)
      assert.equal(rs[0]!.status, 'running')
      survivor = rs[0]
    })

    test('terminating the same instance again, or an unknown id, succeeds and changes nothing', async () => {
      await provider.terminate(env.group, launched[0]!.id)
      await provider.terminate(env.group, 'no-such-instance')
      assert.deepEqual((await provider.list(env.group)).map((r) => r.id), [launched[1]!.id])
    })

    test('a new provider object adopts the survivor without relaunching it', { skip: options.skip?.adoption ?? false }, async () => {
      assert.ok(survivor !== undefined, 'an earlier step left no survivor')
      const restarted = env.newProvider()
      assert.equal(restarted.capabilities.adopts, true)
      const rs = await restarted.list(env.group)
      assert.equal(rs.length, 1)
      const adopted = rs[0]!
      assert.equal(adopted.id, survivor.id)
      assert.equal(adopted.status, 'running')
      assert.equal(adopted.launchedAtMs, survivor.launchedAtMs)
      assert.equal(adopted.readyAtMs, survivor.readyAtMs)
      assert.deepEqual(adopted.address, survivor.address)
      assert.deepEqual(adopted.meta, survivor.meta)
      // The old object sees the same single instance: nothing was duplicated.
      assert.deepEqual((await provider.list(env.group)).map((r) => r.id), [survivor.id])
    })

    test('the survivor can be terminated through the new object, and then nothing is left', async () => {
      const p = env.newProvider()
      await p.terminate(env.group, launched[1]!.id)
      await listUntil(p, 'empty', (l) => l.length === 0)
      assert.deepEqual(await provider.list(env.group), [])
    })
  })
}
