import { test } from 'node:test'
import assert from 'node:assert/strict'
import { browserModule } from '../support/browser-module.ts'

const { risksOf } = await browserModule<{ risksOf: (g: unknown) => string[] }>('risks.js')

const cases = [
  { name: 'no status: none', group: { status: null }, want: [] },
  { name: 'a status without risks: none', group: { status: { instances: [] } }, want: [] },
  { name: 'risks in the status, by their message', group: { status: { risks: [{ kind: 'max', message: 'at this trend shop-web reaches max 20 in ~35 min' }] } }, want: ['at this trend shop-web reaches max 20 in ~35 min'] },
  { name: 'risks beside the status; text or summary when there is no message', group: { status: null, risks: [{ text: 'a' }, { summary: 'b' }, 'c'] }, want: ['a', 'b', 'c'] },
  { name: 'a risk of another shape is shown as its JSON', group: { status: { risks: [{ inMinutes: 35 }] } }, want: ['{"inMinutes":35}'] },
  { name: 'risks that are not a list: none', group: { status: { risks: 'soon' } }, want: [] },
] as const

for (const c of cases) test(`risksOf: ${c.name}`, () => { assert.deepEqual(risksOf(c.group), c.want); })
