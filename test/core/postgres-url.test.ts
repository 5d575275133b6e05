import assert from 'node:assert/strict'
import { test } from 'node:test'
import { isPostgresUrl, redactPostgresUrl, scrubPassword } from '../../src/core/postgres-url.ts'

const redactions = [
  { name: 'user and password', url: 'postgres://tide:s3cret@db:5432/tide', want: 'postgres://tide:***@db:5432/tide' },
  { name: 'no password', url: 'postgres://tide@db/tide', want: 'postgres://tide@db/tide' },
  { name: 'a password parameter', url: 'postgresql://db/tide?sslmode=require&password=s3cret', want: 'postgresql://db/tide?sslmode=require&password=***' },
  { name: 'a percent-encoded password', url: 'postgres://tide:p%40ss@db/tide', want: 'postgres://tide:***@db/tide' },
  { name: 'an unparsable url', url: 'postgres://tide:s3cret@[bad/tide', want: 'postgres://<unparsable url>' },
] as const
for (const c of redactions) {
  test(`redactPostgresUrl: ${c.name}`, () => {
    assert.equal(redactPostgresUrl(c.url), c.want)
  })
}

test('isPostgresUrl: postgres:// and postgresql://, any case; nothing else', () => {
  assert.deepEqual(['postgres://a/b', 'POSTGRESQL://a/b', 'mysql://a/b', 'tide.db', 'postgres:/a'].map(isPostgresUrl), [true, true, false, false, false])
})

test('scrubPassword removes the password, raw and decoded, and the whole URL, from a driver message', () => {
  const url = 'postgres://tide:p%40ss@db/tide'
  assert.equal(scrubPassword(`connect to ${url} failed: password p@ss or p%40ss refused`, url), 'connect to postgres://tide:***@db/tide failed: password *** or *** refused')
  assert.equal(scrubPassword('nothing secret', 'postgres://db/tide'), 'nothing secret')
})
