import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseCommandArgs, type Command } from '../../src/cli/args.ts'
import { apiFlags, apiOptionsOf, readsText, tokenSourceText } from '../../src/cli/serve-api.ts'
import { isTideError } from '../../src/errors.ts'

/** A command with only the API flags, to parse them as `tide up` does. */
const cmd: Command = { summary: 's', usage: '', description: 'd', examples: [], flags: { ...apiFlags }, run: () => 0 }

const cases = [
  { name: 'no flag: serve on api.listen', argv: [], want: { serve: true } },
  { name: '--api-listen 7171', argv: ['--api-listen', '7171'], want: { serve: true, port: 7171 } },
  { name: '--api-listen 0: any free port', argv: ['--api-listen', '0'], want: { serve: true, port: 0 } },
  { name: '--no-api', argv: ['--no-api'], want: { serve: false } },
  { name: 'both', argv: ['--no-api', '--api-listen', '1'], error: /--api-listen and --no-api contradict each other/ },
  { name: 'a port too high', argv: ['--api-listen', '70000'], error: /--api-listen: must be at most 65535, got 70000/ },
  { name: 'a fractional port', argv: ['--api-listen', '80.5'], error: /a port is a whole number/ },
  { name: 'a negative port', argv: ['--api-listen', '-1'], error: /./ },
] as const

for (const c of cases) {
  test(`API flags: ${c.name}`, () => {
    const run = () => apiOptionsOf(parseCommandArgs(cmd, 'tide up', c.argv), 'tide up')
    if ('error' in c) assert.throws(run, (err: unknown) => isTideError(err, 'TIDE_ERR_USAGE') && c.error.test(err.message))
    else assert.deepEqual(run(), c.want)
  })
}

test('the start-up line says where the token is, never what it is', () => {
  assert.equal(tokenSourceText({ kind: 'env', name: 'TIDE_API_TOKEN' }), 'token from $TIDE_API_TOKEN')
  assert.equal(tokenSourceText({ kind: 'file', path: '/s/api-token', created: true }), 'token in /s/api-token (new, mode 0600)')
  assert.equal(tokenSourceText({ kind: 'file', path: '/s/api-token', created: false }), 'token in /s/api-token')
})

test('the start-up line says who may read without the token (api.openReads)', () => {
  assert.equal(readsText(false), 'reads are open from loopback')
  assert.equal(readsText(true), 'reads are open from anywhere (api.openReads)')
})
