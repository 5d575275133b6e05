/** The backend registry: which providers tide up runs, and the reason it gives for the others. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { tmpdir } from 'node:os'
import { BackendRegistry, runnableProviders } from '../../../src/runtime/backends/index.ts'
import { systemClock } from '../../../src/core/clock.ts'
import { MemoryEventLog } from '../../../src/store/events.ts'
import { MemoryInstanceRegistry } from '../../../src/providers/local/instance-registry.ts'
import { GroupSchema, type GroupSpec } from '../../../src/spec/schema.ts'

function spec(extra: Record<string, unknown> = {}): GroupSpec {
  return GroupSchema.parse({ group: 'web', provider: 'local', launch: { command: ['/bin/true'] }, ...extra })
}

function registry(): BackendRegistry {
  return new BackendRegistry({ stateDir: tmpdir(), registry: new MemoryInstanceRegistry(), events: new MemoryEventLog(), clock: systemClock })
}

test('the registry runs local, aws and kubernetes groups and refuses the others with the reason', () => {
  assert.deepEqual(runnableProviders(), ['aws', 'local', 'kubernetes'])
  const r = registry()
  assert.equal(r.refuses(spec()), undefined)
  assert.equal(r.refuses(spec({ provider: 'aws', launch: undefined, aws: { autoScalingGroupName: 'web', region: 'us-east-1' } })), undefined)
  assert.equal(r.refuses(spec({ provider: 'kubernetes', launch: undefined, kubernetes: { namespace: 'shop', deployment: 'web' } })), undefined)
  assert.match(r.refuses(spec({ provider: 'sim', launch: undefined })) ?? '', /group web: provider sim cannot run here; this build of tide runs groups with provider aws, local, kubernetes \(use tide simulate for any group\)/)
})

