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

test('routing.backup instances become HAProxy backup servers, in maintenance until tide checks them', async (t) => {
  const config = haproxyConfig({ routing: routingSpec({ proxy: 'haproxy', backup: { instances: [{ host: '127.0.0.1', port: 9001 }, { host: 'spare.invalid', port: 9002 }] } }), ...base })
  await acceptedByHaproxy(t, config)
  assert.match(config, /^ {2}option allbackups$/m)
  assert.match(config, /^ {2}server b1 127\.0\.0\.1:9001 backup disabled init-addr libc,none$/m)
  // A name that does not resolve leaves the server without an address instead of failing the start.
  assert.match(config, /^ {2}server b2 spare\.invalid:9002 backup disabled init-addr libc,none$/m)
  assert.doesNotMatch(config, /set-path/)
})

test('a routing.backup url with a path: its prefix is set only while proc.onbackup is 1', async (t) => {
  const config = haproxyConfig({ routing: routingSpec({ proxy: 'haproxy', backup: { url: 'http://127.0.0.1:9000/fall%20back/' } }), ...base })
  await acceptedByHaproxy(t, config)
  assert.match(config, /^ {2}set-var proc\.onbackup int\(0\)$/m)
  // % doubled: the path is a log-format string there.
  assert.match(config, /^ {2}http-request set-path "\/fall%%20back%\[path\]" if \{ var\(proc\.onbackup\) -m int 1 \}$/m)
  assert.match(config, /^ {2}server b1 127\.0\.0\.1:9000 backup disabled/m)
})

test('without routing.backup there is no backup server', () => {
  const config = haproxyConfig({ routing: routingSpec({ proxy: 'haproxy' }), ...base })
  assert.doesNotMatch(config, /backup disabled|allbackups/)
  assert.ok(config.endsWith('127.0.0.1:1 disabled\n'))
})
