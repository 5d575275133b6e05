/**
 * The dashboard end to end in a real browser: a real `tide up` (child process) with one local
 * group of the tiny server, load sent to its router by a bounded loop, and Debian's chromium
 * driven by playwright-core. The page must list the group, draw its charts and redraw them with
 * new data, pause and resume the group, refuse a bad spec in the editor with the field named,
 * apply a changed minimum with the token, and show the change take effect in the next decisions
 * (the API's status says so, and so does the page), then protect an instance from its table. No CSP violation and no script error may happen on the way.
 * Screenshots go to test-artifacts/ (gitignored). Skips, saying why, without chromium.
 */
/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-return, @typescript-eslint/no-explicit-any -- API answers are JSON (`any`), checked field by field */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium, type Browser, type Page } from 'playwright-core'
import { binaryPath, missingBinary } from '../support/system-binaries.ts'
import { tideUp } from '../support/tide-up.ts'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const TINY = join(ROOT, 'test/providers/fixtures/tiny-server.ts')
const ARTIFACTS = join(ROOT, 'test-artifacts')
const TOKEN = 'dashboard-test-token-0123456789abcdef'

/** tide.yaml: one tiny group with an SLO (capacity 40 req/s per instance), min 1, max 3. */
function config(dir: string): string {
  const file = join(dir, 'tide.yaml')
  writeFileSync(
    file,
    [
      `store: { path: ${JSON.stringify(join(dir, 'tide.db'))} }`,
      '---',
      'group: tiny',
      `launch: { command: [${JSON.stringify(process.execPath)}, --import, tsx, ${JSON.stringify(TINY)}], cwd: ${JSON.stringify(ROOT)} }`,
      'replicas: { min: 1, max: 3 }',
      'syncPeriodSeconds: 1',
      'startupSeconds: 1',
      'warmupSeconds: 0',
      'health: { path: /healthz, intervalSeconds: 0.5, healthyThreshold: 1, graceSeconds: 10 }',
      'routing: { listen: 0, drainSeconds: 1 }',
      'slo: { latencyP95Ms: 200, budgetPercent: 1, instanceRps: 40 }',
      'behavior: { scaleDown: { stabilizationWindowSeconds: 0 } }',
    ].join('\n'),
  )
  return file
}

/** Sends about `rps` requests/s to `url` until stopped (each request bounded by 2 s). */
function load(url: string, rps: number): { stop(): Promise<void> } {
  let running = true
  const loop = (async () => {
    while (running) {
      const started = Date.now()
      await fetch(`${url}/load`, { signal: AbortSignal.timeout(2000) })
        .then((r) => r.arrayBuffer())
        .catch(() => undefined)
      await new Promise((r) => setTimeout(r, Math.max(0, 1000 / rps - (Date.now() - started))))
    }
  })()
  return {
    async stop() {
      running = false
      await loop
    },
  }
}

/** Waits until `cond` holds (checked every 250 ms); throws after `timeoutMs`, saying what it waited for. */
async function until<T>(what: string, cond: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await cond()
    if (v !== undefined && v !== false) return v
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 250))
  }
}

/** A chart's data attributes: values drawn and the newest bucket. */
async function chartData(page: Page, title: string): Promise<{ points: number; lastAt: number }> {
  const box = page.locator(`section.chart[data-chart="${title}"]`)
  const points = Number((await box.getAttribute('data-points', { timeout: 5000 })) ?? '0')
  const lastAt = Number((await box.getAttribute('data-last-at', { timeout: 5000 })) ?? '0')
  return { points, lastAt }
}

test('the dashboard shows a running tide live and changes a policy in a real browser', { skip: missingBinary('chromium'), timeout: 240_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tide-ui-'))
  mkdirSync(ARTIFACTS, { recursive: true })
  const up = tideUp(['-c', config(dir), '--state-dir', join(dir, 'state'), '--heartbeat', '0'], dir, { TIDE_API_TOKEN: TOKEN })
  let browser: Browser | undefined
  let traffic: { stop(): Promise<void> } | undefined
  try {
    const dashboard = (await up.waitForLine(/^dashboard: /)).slice('dashboard: '.length)
    assert.match(dashboard, /^http:\/\/127\.0\.0\.1:\d+\/ui\/$/)
    const apiUrl = dashboard.replace(/\/ui\/$/, '')
    const router = (await up.waitForLine(/^tiny: routing /)).split(' ')[2] ?? ''
    await up.waitForLine(/ tiny instance-ready: /)
    traffic = load(router, 20)
    const group = async (): Promise<any> => (await fetch(`${apiUrl}/groups/tiny`, { signal: AbortSignal.timeout(5000) })).json()

    browser = await chromium.launch({ executablePath: binaryPath('chromium') ?? 'chromium', args: ['--headless', '--no-sandbox', '--disable-gpu'], timeout: 60_000 })
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } })
    page.setDefaultTimeout(20_000)
    const problems: string[] = []
    // Error answers are the page's to show (a refused spec, the replay's), not problems: they are checked below.
    const refusals: string[] = []
    page.on('response', (r) => {
      if (r.status() >= 400) refusals.push(`${r.request().method()} ${new URL(r.url()).pathname} ${r.status()}`)
    })
    page.on('console', (m) => {
      if (m.type() === 'error' && !m.text().startsWith('Failed to load resource: the server responded with a status of')) problems.push(`console: ${m.text()}`)
    })
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`))

    // The overview lists the group with its instances and the load once the router measured it.
    await page.goto(dashboard)
    const card = page.locator('article.card[data-group="tiny"]')
    await card.waitFor()
    await until('the overview card to show the load against capacity', async () => /of 40 req\/s/.test(await card.innerText()))
    const cardText = await card.innerText()
    assert.match(cardText, /1 in-service/)
    assert.match(cardText, /p95 \/ SLO\s+\d+ ms \/ 200 ms/)
    assert.match(cardText, /last decision/)
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-overview.png') })

    // The group's page: charts drawn, then drawn again with newer buckets.
    await card.locator('a.group-link').click()
    await page.locator('#charts canvas').first().waitFor()
    assert.equal(await page.locator('#charts canvas').count(), 4, 'four charts')
    const first = await until('the load chart to draw points', async () => {
      const d = await chartData(page, 'Load and capacity (req/s)')
      return d.points > 0 ? d : undefined
    })
    const second = await until('the load chart to redraw with a newer bucket', async () => {
      const d = await chartData(page, 'Load and capacity (req/s)')
      return d.lastAt > first.lastAt ? d : undefined
    })
    assert.ok(second.points > 0)
    assert.ok((await chartData(page, 'Instances')).points > 0, 'the instances chart draws')
    await until('the instance table to list the instance', async () => (await page.locator('#instances tbody tr[data-phase="in-service"]').count()) === 1)
    await until('the timeline to list events', async () => (await page.locator('#timeline li').count()) > 0)

    // A decision marker explains itself on hover.
    const marker = page.locator('#charts .decision-marker').first()
    await marker.waitFor()
    await marker.hover()
    const tip = page.locator('#charts .marker-tip:visible').first()
    await tip.waitFor()
    assert.match(await tip.innerText(), /held at 1|scaled|at 1/)

    // Without the token the editor says it needs one; with it, it shows the spec in force.
    assert.match(await page.locator('#editor-state').innerText(), /needs the API token/)
    await page.fill('#token-input', TOKEN)
    await page.click('#token-save')
    await until('the editor to show the spec', async () => /replicas:/.test(await page.inputValue('#editor-text')))
    const original = await page.inputValue('#editor-text')

    // Pause and resume from the header: the badge and the API agree.
    await page.click('#pause-button')
    await page.locator('#paused-badge').waitFor()
    assert.equal((await group()).paused, true)
    await until('the button to offer Resume', async () => (await page.locator('#pause-button').innerText()) === 'Resume')
    await page.click('#pause-button')
    await page.locator('#paused-badge').waitFor({ state: 'detached' })
    assert.equal((await group()).paused, false)

    // Bad YAML is refused where it is; an unknown field by the server, named.
    await page.fill('#editor-text', 'replicas: [1, 2\n')
    await until('the YAML error', async () => /^YAML: line \d+, column \d+/.test(await page.locator('#editor-state').innerText()))
    await page.fill('#editor-text', original.replace(/^replicas:/m, 'replcas:'))
    await until('the field-level error', async () => /unknown field "replcas"/.test(await page.locator('#editor-issues').innerText()))
    assert.equal(await page.locator('#editor-issues li[data-path="replcas"]').count(), 1)
    assert.match(await page.locator('#editor-state').innerText(), /TIDE_ERR_CONFIG/)

    // A valid change: min 1 → 2. Replay shows its answer (or the API's error), then Apply.
    const changed = original.replace(/^(replicas:\n(?: {2}.*\n)*? {2}min: )1$/m, '$12')
    assert.notEqual(changed, original, 'the spec text has replicas.min: 1')
    await page.fill('#editor-text', changed)
    await until('the change to validate', async () => /^valid/.test(await page.locator('#editor-state').innerText()))
    await page.click('#replay-button')
    await until('the replay answer', async () => (await page.locator('#replay-result, #replay-error').count()) > 0, 120_000)
    if ((await page.locator('#replay-result').count()) > 0) assert.match(await page.locator('#replay-result').innerText(), /in force\s+proposed/)
    else assert.match(await page.locator('#replay-error').innerText(), /^Replay: TIDE_ERR_API_NOT_FOUND: no route POST \/groups\/tiny\/replay/)
    await page.locator('#editor-text').evaluate((e) => {
      e.scrollTop = 0
    })
    await page.locator('#editor').screenshot({ path: join(ARTIFACTS, 'dashboard-editor.png') })
    const appliedAtMs = Date.now()
    await page.click('#apply-button')
    await until('the apply result', async () => (await page.locator('#apply-result').count()) > 0)
    assert.match(await page.locator('#apply-result').innerText(), /^changed: in force from the next tick/)

    // The next decisions honour the new minimum: the API's status and the page say so.
    const after = await until('a decision at the new minimum', async () => {
      const g = await group()
      const d = g.status?.lastDecision
      return g.spec.replicas.min === 2 && g.status?.desiredReplicas === 2 && d?.atMs > appliedAtMs && d.to === 2 ? g : undefined
    })
    assert.equal(after.status.lastDecision.to, 2)
    await until('the page to show the new bound and count', async () => (await page.locator('#fact-bounds').innerText()) === 'min 2 · max 3' && (await page.locator('#fact-desired').innerText()) === '2')
    await until('the timeline to show the change', async () => (await page.locator('#timeline li[data-type="group-changed"]').count()) > 0)

    // Protect an instance from the table.
    await page.locator('#instances tbody tr').first().locator('button.protect').click()
    await until('the instance to show as protected', async () => (await page.locator('#instances tbody td.protected', { hasText: 'yes' }).count()) === 1)

    await until('two instances in service on the page', async () => (await page.locator('#instances tbody tr[data-phase="in-service"]').count()) === 2, 60_000)
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-group.png'), fullPage: true })
    assert.deepEqual(problems, [], 'no script error and no CSP violation')
    const expected = new Set(['POST /groups/tiny/validate 400', 'POST /groups/tiny/replay 404'])
    assert.deepEqual(refusals.filter((r) => !expected.has(r)), [], 'the only error answers are the refused spec and a replay route not built yet')
  } finally {
    await browser?.close()
    await traffic?.stop()
    await up.stop()
    rmSync(dir, { recursive: true, force: true })
  }
})
