/**
 * Secrets stay where they belong (docs/security.md), checked with planted values on a real
 * runtime: the token named by api.tokenEnv never reaches an instance's environment (read from
 * /proc/PID/environ); the backup hook gets only PATH, HOME, LANG, TZ of tide's environment plus
 * the group's launch.env and the TIDE_* it documents; `tide validate --json` prints no launch.env
 * value.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { BACKUP_INHERITED_ENV } from '../../src/runtime/local-drainer.ts'
import { Runtime } from '../../src/runtime/runtime.ts'
import { GlobalSchema, GroupSchema } from '../../src/spec/schema.ts'
import { MemoryEventLog } from '../../src/store/events.ts'
import { runTide } from '../support/run-tide.ts'

/** Writes its environment and pid to DIR/instance-PID.json, then serves 200 on PORT. */
const INSTANCE = `
const fs = require('node:fs')
fs.writeFileSync(process.env.ENV_DIR + '/instance-' + process.pid + '.json', JSON.stringify(process.env))
require('node:http').createServer((q, s) => s.end('ok')).listen(Number(process.env.PORT), '127.0.0.1')
`
/** Writes its environment to argv[1]. */
const HOOK = `require('node:fs').writeFileSync(process.argv[1], JSON.stringify(process.env))`

async function waitFor(what: string, cond: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

test('the API token and tide\'s other variables stay out of instances and the backup hook', { timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tide-secrets-'))
  const token = `token-${randomBytes(8).toString('hex')}`
  const cloud = `cloud-${randomBytes(8).toString('hex')}`
  // tide's environment as an operator's shell would hold it: the API token, cloud credentials.
  process.env.TIDE_TEST_API_TOKEN = token
  process.env.TIDE_TEST_CLOUD_SECRET = cloud
  t.after(() => {
    delete process.env.TIDE_TEST_API_TOKEN
    delete process.env.TIDE_TEST_CLOUD_SECRET
    rmSync(dir, { recursive: true, force: true })
  })
  const spec = GroupSchema.parse({
    group: 'shop',
    provider: 'local',
    launch: { command: [process.execPath, '-e', INSTANCE], env: { ENV_DIR: dir, SHOP_DB_PASSWORD: 'launch-secret' } },
    replicas: { min: 1, max: 1 },
    syncPeriodSeconds: 1,
    health: { path: '/healthz', intervalSeconds: 0.2, timeoutSeconds: 1, healthyThreshold: 1, graceSeconds: 5 },
    routing: { listen: 0, drainSeconds: 1, workers: 1 },
    lifecycle: { backup: { command: [process.execPath, '-e', HOOK, join(dir, 'backup-env.json')], timeoutSeconds: 20 } },
  })
  const global = GlobalSchema.parse({ api: { tokenEnv: 'TIDE_TEST_API_TOKEN' } })
  const rt = await Runtime.start({ config: { groups: [spec], global }, stateDir: dir, storePath: join(dir, 'tide.db'), events: new MemoryEventLog() })
  let stopped = false
  t.after(async () => {
    if (!stopped) await rt.stop()
  })
  rt.run()
  await waitFor('the instance', () => readdirSync(dir).some((f) => f.startsWith('instance-')))
  const file = readdirSync(dir).find((f) => f.startsWith('instance-')) ?? ''
  const pid = Number(/instance-(\d+)\.json/.exec(file)?.[1])
  // The kernel's record of the instance's environment, as it was started.
  const environ = readFileSync(`/proc/${pid}/environ`, 'latin1')
  assert.ok(environ.includes('SHOP_DB_PASSWORD=launch-secret'), 'launch.env reaches the instance')
  assert.ok(!environ.includes(token), 'the API token is not in /proc/PID/environ')
  assert.ok(!environ.includes('TIDE_TEST_API_TOKEN='), 'not even its name')
  const instanceEnv = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Record<string, string>
  assert.equal(instanceEnv.TIDE_TEST_API_TOKEN, undefined)

  // Stopping drains the instance, which runs the backup hook.
  await rt.stop()
  stopped = true
  const hookFile = join(dir, 'backup-env.json')
  assert.ok(existsSync(hookFile), 'the backup hook ran')
  const hookEnv = JSON.parse(readFileSync(hookFile, 'utf8')) as Record<string, string>
  const text = JSON.stringify(hookEnv)
  assert.ok(!text.includes(token) && !text.includes(cloud), 'no secret of tide in the hook')
  assert.equal(hookEnv.SHOP_DB_PASSWORD, 'launch-secret')
  assert.equal(hookEnv.TIDE_GROUP, 'shop')
  assert.match(hookEnv.TIDE_INSTANCE_ID ?? '', /^shop-/)
  assert.match(hookEnv.TIDE_INSTANCE_PORT ?? '', /^\d+$/)
  // Exactly the documented variables (node may add none of its own to a child's environment).
  const allowed = new Set<string>([...BACKUP_INHERITED_ENV, 'ENV_DIR', 'SHOP_DB_PASSWORD', 'TIDE_GROUP', 'TIDE_INSTANCE_ID', 'TIDE_INSTANCE_PORT'])
  assert.deepEqual(Object.keys(hookEnv).filter((k) => !allowed.has(k)), [])
  assert.equal(hookEnv.PATH, process.env.PATH)
})

test('tide validate --json prints launch.env names, never their values', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tide-secrets-'))
  t.after(() => { rmSync(dir, { recursive: true, force: true }); })
  const secret = `pw-${randomBytes(8).toString('hex')}`
  const file = join(dir, 'tide.yaml')
  writeFileSync(file, `group: shop\nlaunch: { command: [./run.sh], env: { DB_PASSWORD: ${secret}, PLAIN: x } }\n`)
  const r = await runTide(['validate', '-c', file, '--json'])
  assert.equal(r.status, 0, r.stderr)
  assert.ok(!r.stdout.includes(secret) && !r.stderr.includes(secret), 'the value is printed nowhere')
  const config = JSON.parse(r.stdout) as { groups: { launch: { env: Record<string, string> } }[] }
  assert.deepEqual(config.groups[0]?.launch.env, { DB_PASSWORD: '(redacted)', PLAIN: '(redacted)' })
  // The text summary never printed it either.
  const plain = await runTide(['validate', '-c', file])
  assert.ok(!plain.stdout.includes(secret) && !plain.stderr.includes(secret))
})
