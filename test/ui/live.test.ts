import { test } from 'node:test'
import assert from 'node:assert/strict'
import { TIDE_EVENT_TYPES } from '../../src/store/events.ts'
import { browserModule } from '../support/browser-module.ts'

const { EVENT_TYPES } = await browserModule<{ EVENT_TYPES: readonly string[] }>('live.js')

test('the page listens to every event type tide records (SSE events are named by type)', () => {
  assert.deepEqual([...EVENT_TYPES].sort(), [...TIDE_EVENT_TYPES].sort())
})
