/**
 * The real `tide demo` as a child process: it says where the dashboard is, and the dashboard
 * answers there while the demo runs (the shortest sale, 10 s at a low rate, bounded in time).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { tideServing } from '../support/tide-up.ts'

test('tide demo prints where the dashboard is, and serves it there while it runs', { timeout: 180_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tide-demo-'))
  const demo = tideServing('demo', ['--duration', '10', '--peak-rps', '20'], dir)
  try {
    const api = (await demo.waitForLine(/^API: /)).split(' ')[1] ?? ''
    const line = await demo.waitForLine(/^dashboard: /)
    assert.equal(line, `dashboard: ${api}/ui/`)
    const page = await fetch(line.slice('dashboard: '.length), { signal: AbortSignal.timeout(10_000) })
    assert.equal(page.status, 200)
    assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'self'/)
    assert.match(await page.text(), /<title>tide dashboard<\/title>/)
    await demo.waitForLine(/^summary: /, 120_000)
    assert.equal(await demo.exited, 0, demo.stderr())
  } finally {
    await demo.stop()
    rmSync(dir, { recursive: true, force: true })
  }
})
