import assert from 'node:assert/strict'
import { test } from 'node:test'
import { redactUrl } from '../../src/store/delivery-log.ts'

const cases = [
  { name: 'plain URL kept', url: 'http://127.0.0.1:9000/hook', want: 'http://127.0.0.1:9000/hook' },
  { name: 'query string dropped', url: 'https://alerts.example.com/hook?token=s3cr3t', want: 'https://alerts.example.com/hook' },
  { name: 'user-info dropped', url: 'https://user:pa55@alerts.example.com/hook', want: 'https://alerts.example.com/hook' },
  { name: 'token-like path segments masked', url: 'https://hooks.slack.com/services/T0123ABCD/B0456EFGH/aBcD1234eFgH5678', want: 'https://hooks.slack.com/services/T0123ABCD/B0456EFGH/***' },
  { name: 'unparsable', url: 'not a url', want: '<invalid url>' },
] as const
for (const c of cases) {
  test(`redactUrl: ${c.name}`, () => {
    assert.equal(redactUrl(c.url), c.want)
  })
}
