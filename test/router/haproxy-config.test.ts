import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test, type TestContext } from 'node:test'
import { haproxyConfig, quoted } from '../../src/router/haproxy-config.ts'
import { missingBinary } from '../support/system-binaries.ts'
import { routingSpec } from './fixtures.ts'

/** Runs `haproxy -c` (Debian's package; .ci/run installs it) on a generated configuration. */
function check(config: string): { status: number | null; output: string } {
  const dir = mkdtempSync(join(tmpdir(), 'tide-haproxy-cfg-'))
  try {
    const file = join(dir, 'haproxy.cfg')
    writeFileSync(file, config)
    const r = spawnSync('haproxy', ['-c', '-f', file], { encoding: 'utf8' })
    return { status: r.status, output: `${r.stdout}${r.stderr}` }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** A subtest that HAProxy itself accepts `config`: skipped, with the reason, where haproxy is not installed. */
async function acceptedByHaproxy(t: TestContext, config: string): Promise<void> {
  await t.test('haproxy -c accepts it', { skip: missingBinary('haproxy') }, () => {
    const r = check(config)
    assert.equal(r.status, 0, r.output)
  })
}

const base = { port: 18080, adminSocket: '/tmp/tide-test-admin.sock', logPort: 15140, threads: 2, slots: 16 }

test('quoted escapes backslash, double quote and $ so a value stays one HAProxy word', () => {
  assert.equal(quoted('plain'), '"plain"')
  assert.equal(quoted('a"b\\c${HOME}'), '"a\\"b\\\\c\\${HOME}"')
})

test('the generated configuration is valid for HAProxy, with classes, limits and round-robin', async (t) => {
  const routing = routingSpec({
    proxy: 'haproxy',
    balance: 'round-robin',
    retries: 2,
    maxInFlightPerInstance: 32,
    queueLength: 10,
    classes: [
      { name: 'checkout', pathPrefix: '/checkout', priority: 'high' },
      { name: `odd "name" $HOME`, pathPrefix: '/odd', priority: 'low' },
      { name: 'rest', priority: 'normal' },
    ],
    limits: { maxHeaderBytes: 32768, maxBodyBytes: 1000, requestTimeoutSeconds: 2.5 },
  })
  const config = haproxyConfig({ routing, ...base })
  await acceptedByHaproxy(t, config)
  assert.match(config, /balance roundrobin/)
  assert.match(config, /retries 2/)
  assert.match(config, /default-server maxconn 32/)
  assert.match(config, /server-template s 1-16 /)
  assert.match(config, /timeout server 2500ms/)
  assert.match(config, /req\.hdr_val\(content-length\) gt 1000/)
  assert.match(config, /queue\(instances\) ge 10/)
  // Headers over maxHeaderBytes do not fit HAProxy's buffer minus its rewrite reserve.
  const bufsize = Number(/tune\.bufsize (\d+)/.exec(config)?.[1])
  const maxrewrite = Number(/tune\.maxrewrite (\d+)/.exec(config)?.[1])
  assert.equal(bufsize - maxrewrite, 32768)
  // The catch-all is set first, then the prefixed classes in reverse file order: the last
  // rule that matches wins, so the first matching prefix in the file decides, as in tide's proxy.
  const at = (name: string): number => config.indexOf(`set-var(txn.class) str(${quoted(name)})`)
  assert.ok(at('rest') >= 0 && at('rest') < at('odd "name" $HOME'))
  assert.ok(at('odd "name" $HOME') < at('checkout'))
})

test('the default routing section is valid for HAProxy and uses power of two choices', async (t) => {
  const config = haproxyConfig({ routing: routingSpec({ proxy: 'haproxy' }), ...base })
  await acceptedByHaproxy(t, config)
  assert.match(config, /balance random\(2\)/)
  assert.throws(() => haproxyConfig({ routing: routingSpec({ proxy: 'haproxy' }), ...base, slots: 0 }), /at least one server slot/)
})
