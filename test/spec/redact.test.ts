import { test } from 'node:test'
import assert from 'node:assert/strict'
import { REDACTED, redactConfig, redactLaunchEnv } from '../../src/spec/redact.ts'
import { GlobalSchema, GroupSchema } from '../../src/spec/schema.ts'

const withEnv = GroupSchema.parse({ group: 'web', launch: { command: ['./run.sh'], env: { DB_PASSWORD: 'hunter2', MODE: 'prod' } } })
const withoutLaunch = GroupSchema.parse({ group: 'sim', provider: 'sim' })

test('launch.env values are replaced, names kept, nothing else changed', () => {
  const r = redactLaunchEnv(withEnv)
  assert.deepEqual(r.launch, { ...withEnv.launch, env: { DB_PASSWORD: REDACTED, MODE: REDACTED } })
  assert.equal(withEnv.launch?.env.DB_PASSWORD, 'hunter2', 'the spec given is not changed')
  assert.ok(!JSON.stringify(r).includes('hunter2'))
})

test('a spec without launch or without env is returned as it is', () => {
  assert.equal(redactLaunchEnv(withoutLaunch), withoutLaunch)
  const empty = GroupSchema.parse({ group: 'x', launch: { command: ['./a'] } })
  assert.equal(redactLaunchEnv(empty), empty)
})

test('redactConfig redacts every group', () => {
  const r = redactConfig({ groups: [withEnv, withoutLaunch], global: GlobalSchema.parse({}) })
  assert.ok(!JSON.stringify(r).includes('hunter2'))
  assert.equal(r.groups.length, 2)
})
