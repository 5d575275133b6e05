import { test } from 'node:test'
import assert from 'node:assert/strict'
import { instancesToLaunch, instancesToRemove } from '../../src/engine/retire.ts'
import type { InstancePhase, InstanceView } from '../../src/engine/types.ts'

const small = { cpu: 1, memoryMiB: 512 }
const large = { cpu: 2, memoryMiB: 1024 }

/** One instance: `id`, phase, size (small unless 'L'), protected when 'P' is among the flags. */
function v(id: string, phase: InstancePhase, flags = ''): InstanceView {
  return { id, phase, size: flags.includes('L') ? large : small, launchedAtMs: 0, protectedFromScaleIn: flags.includes('P') }
}

const cases: readonly {
  name: string
  target: number
  size?: typeof small
  instances: readonly InstanceView[]
  candidates: readonly string[]
  launch: number
  remove: readonly string[]
}[] = [
  { name: 'at the target: nothing', target: 2, instances: [v('a', 'in-service'), v('b', 'in-service')], candidates: ['b', 'a'], launch: 0, remove: [] },
  { name: 'scale-out 2 → 4: launch 2', target: 4, instances: [v('a', 'in-service'), v('b', 'pending')], candidates: ['b', 'a'], launch: 2, remove: [] },
  {
    name: 'scale-in 4 → 2 follows the candidate order',
    target: 2,
    instances: [v('a', 'in-service'), v('b', 'in-service'), v('c', 'warming'), v('d', 'pending')],
    candidates: ['d', 'c', 'b', 'a'],
    launch: 0,
    remove: ['d', 'c'],
  },
  {
    name: 'scale-in: an id missing from the candidates (protected) is never chosen, so fewer go',
    target: 1,
    instances: [v('a', 'in-service', 'P'), v('b', 'in-service', 'P'), v('c', 'in-service')],
    candidates: ['c'],
    launch: 0,
    remove: ['c'],
  },
  {
    name: 'resize: outdated pending ones go at once, serving ones wait for the new size to serve',
    target: 2,
    size: large,
    instances: [v('a', 'in-service'), v('b', 'in-service'), v('c', 'pending')],
    candidates: ['c', 'b', 'a'],
    launch: 2,
    remove: ['c'],
  },
  {
    name: 'resize: one new instance serves, so one outdated may go (launch before terminate)',
    target: 2,
    size: large,
    instances: [v('a', 'in-service'), v('b', 'in-service'), v('n1', 'in-service', 'L'), v('n2', 'pending', 'L')],
    candidates: ['n2', 'b', 'a', 'n1'],
    launch: 0,
    remove: ['b'],
  },
  {
    name: 'resize done: the new size serves the target, every outdated one goes',
    target: 2,
    size: large,
    instances: [v('a', 'in-service'), v('b', 'warming'), v('n1', 'in-service', 'L'), v('n2', 'warming', 'L')],
    candidates: ['b', 'n2', 'a', 'n1'],
    launch: 0,
    remove: ['b', 'a'],
  },
  {
    name: 'resize: a protected outdated instance stays',
    target: 1,
    size: large,
    instances: [v('a', 'in-service', 'P'), v('n1', 'in-service', 'L')],
    candidates: [],
    launch: 0,
    remove: [],
  },
  {
    name: 'resize with scale-in: excess new ones by rank, then outdated while the rest covers the target',
    target: 1,
    size: large,
    instances: [v('n1', 'in-service', 'L'), v('n2', 'in-service', 'L'), v('a', 'in-service')],
    candidates: ['n2', 'a', 'n1'],
    launch: 0,
    remove: ['n2', 'a'],
  },
  { name: 'target 0: every unprotected one goes', target: 0, instances: [v('a', 'in-service'), v('b', 'pending')], candidates: ['b', 'a'], launch: 0, remove: ['b', 'a'] },
]

for (const c of cases) {
  test(`instancesToLaunch / instancesToRemove: ${c.name}`, () => {
    const input = { target: c.target, size: c.size ?? small, instances: c.instances, scaleInCandidates: c.candidates }
    assert.equal(instancesToLaunch(input), c.launch, 'launch')
    assert.deepEqual(instancesToRemove(input), c.remove, 'remove')
  })
}
