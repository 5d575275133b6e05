/**
 * The dashboard's file routes in process (`app.request()`, no port): the page with its strict
 * CSP and no inline script, the vendor files, 404 for what is not there, and no way out of the
 * served folders, however the path is spelled. The API app runs over a real runtime with no
 * group (an in-memory store, nothing launched): the dashboard's routes read files only.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createApiApp, type ApiApp } from '../../src/api/app.ts'
import { DASHBOARD_CSP, fileUnder } from '../../src/api/dashboard.ts'
import { TideService } from '../../src/app/tide-service.ts'
import { Runtime } from '../../src/runtime/runtime.ts'
import { GlobalSchema } from '../../src/spec/schema.ts'

const TOKEN = 'dashboard-unit-token-0123456789'
const LOOPBACK = { incoming: { socket: { remoteAddress: '127.0.0.1' } } }
const REMOTE = { incoming: { socket: { remoteAddress: '192.0.2.7' } } }
let dir: string
let runtime: Runtime
let api: ApiApp

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tide-ui-routes-'))
  runtime = await Runtime.start({ config: { groups: [], global: GlobalSchema.parse({}) }, stateDir: join(dir, 'state'), storePath: ':memory:' })
  api = createApiApp({ service: new TideService(runtime, { baseDir: dir }), token: TOKEN })
})

after(async () => {
  api.close()
  await runtime.stop()
  rmSync(dir, { recursive: true, force: true })
})
const PACKAGE_JSON = readFileSync(new URL('../../package.json', import.meta.url), 'utf8')

function get(path: string, env: object = LOOPBACK, headers: Record<string, string> = {}): Promise<Response> {
  return Promise.resolve(api.app.request(path, { headers }, env))
}

test('GET / and GET /ui redirect to the dashboard', async () => {
  for (const path of ['/', '/ui']) {
    const res = await get(path)
    assert.equal(res.status, 302, path)
    assert.equal(res.headers.get('location'), '/ui/', path)
  }
})

test('GET /ui/ is the page: a strict CSP, no inline script or style, nothing external', async () => {
  const res = await get('/ui/')
  assert.equal(res.status, 200)
  assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8')
  const csp = res.headers.get('content-security-policy') ?? ''
  assert.equal(csp, DASHBOARD_CSP)
  assert.match(csp, /default-src 'none'/)
  assert.match(csp, /script-src 'self'(;|$)/)
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|https?:|\*/)
  assert.equal(res.headers.get('x-content-type-options'), 'nosniff')
  const html = await res.text()
  const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)]
  assert.equal(scripts.length, 2, 'uPlot and main.js')
  for (const [, attrs, body] of scripts) {
    assert.match(attrs ?? '', /\bsrc="[^"]+"/, 'every script is a file')
    assert.equal(body?.trim(), '', 'no inline script')
  }
  assert.doesNotMatch(html, /\sstyle=|<style|\son[a-z]+=/i, 'no inline style or handler')
  assert.doesNotMatch(html, /(src|href)="(https?:)?\/\//, 'no external URL')
})

const files = [
  { path: '/ui/main.js', type: 'text/javascript; charset=utf-8', has: /renderOverview/ },
  { path: '/ui/dashboard.css', type: 'text/css; charset=utf-8', has: /\.cards/ },
  { path: '/ui/vendor/uplot.js', type: 'text/javascript; charset=utf-8', has: /uPlot/ },
  { path: '/ui/vendor/uplot.css', type: 'text/css; charset=utf-8', has: /\.uplot/ },
  { path: '/ui/vendor/yaml/index.js', type: 'text/javascript; charset=utf-8', has: /export/ },
  { path: '/ui/vendor/yaml/compose/composer.js', type: 'text/javascript; charset=utf-8', has: /Composer/ },
] as const

for (const f of files) {
  test(`GET ${f.path} is served with its type and the CSP`, async () => {
    const res = await get(f.path)
    assert.equal(res.status, 200)
    assert.equal(res.headers.get('content-type'), f.type)
    assert.equal(res.headers.get('content-security-policy'), DASHBOARD_CSP)
    assert.match(await res.text(), f.has)
  })
}

test('the vendor uPlot is the installed package\'s file, byte for byte', async () => {
  const file = createRequire(import.meta.url).resolve('uplot/dist/uPlot.iife.min.js')
  assert.equal(await (await get('/ui/vendor/uplot.js')).text(), readFileSync(file, 'utf8'))
})

const missing = ['/ui/nope.js', '/ui/vendor/nope.js', '/ui/vendor/constructor', '/ui/vendor/__proto__', '/ui/vendor/yaml/nope.js', '/ui/vendor/yaml/', '/ui/index.ts', '/ui/x/']
for (const path of missing) {
  test(`GET ${path}: 404 as the API answers it`, async () => {
    const res = await get(path)
    assert.equal(res.status, 404)
    const body = (await res.json()) as { error: { code: string } }
    assert.equal(body.error.code, 'TIDE_ERR_API_NOT_FOUND')
  })
}

const traversals = [
  '/ui/../package.json',
  '/ui/%2e%2e/package.json',
  '/ui/%2E%2E/package.json',
  '/ui/..%2fpackage.json',
  '/ui/..%2Fpackage.json',
  '/ui/%2e%2e%2fpackage.json',
  '/ui/..%5cpackage.json',
  '/ui/%252e%252e/package.json',
  '/ui/vendor/../../package.json',
  '/ui/vendor/yaml/..%2f..%2f..%2f..%2fpackage.json',
  '/ui/vendor/yaml/%2e%2e/%2e%2e/%2e%2e/%2e%2e/package.json',
  '/ui/vendor/..%2f..%2fpackage.json',
  '/ui/index.html%00.js',
  '/ui//etc/passwd',
  '/ui/%2fetc%2fpasswd',
]
for (const path of traversals) {
  test(`no way out of the served folders: GET ${path}`, async () => {
    const res = await get(path)
    const text = await res.text()
    assert.notEqual(res.status, 200, text.slice(0, 200))
    assert.ok(!text.includes(PACKAGE_JSON.slice(0, 40)) && !text.includes('root:x:0:0'), 'no file outside is answered')
  })
}

test('reads of the dashboard follow the API: open from loopback, the token from elsewhere', async () => {
  assert.equal((await get('/ui/', REMOTE)).status, 401)
  assert.equal((await get('/ui/', REMOTE, { authorization: `Bearer ${TOKEN}` })).status, 200)
})

test('fileUnder: only plain names of served types, and never a link out of the root', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'tide-ui-files-'))
  try {
    const root = join(tmp, 'root')
    mkdirSync(join(root, 'sub'), { recursive: true })
    writeFileSync(join(root, 'a.js'), 'a')
    writeFileSync(join(root, 'sub', 'b.css'), 'b')
    writeFileSync(join(root, 'notes.txt'), 'n')
    writeFileSync(join(tmp, 'secret.js'), 's')
    symlinkSync(join(tmp, 'secret.js'), join(root, 'link.js'))
    const cases = [
      { segments: ['a.js'], want: join(root, 'a.js') },
      { segments: ['sub', 'b.css'], want: join(root, 'sub', 'b.css') },
      { segments: ['notes.txt'], want: undefined }, // not a served type
      { segments: ['link.js'], want: undefined }, // a link whose target is outside the root
      { segments: ['..', 'secret.js'], want: undefined },
      { segments: ['%2e%2e', 'secret.js'], want: undefined },
      { segments: ['sub%2f..%2f..%2fsecret.js'], want: undefined },
      { segments: ['sub'], want: undefined }, // a folder
      { segments: [''], want: undefined },
      { segments: ['%E0%A4%A'], want: undefined }, // not decodable
    ] as const
    for (const c of cases) assert.equal(fileUnder(root, c.segments), c.want, c.segments.join('/'))
  } finally {
    rmSync(tmp, { recursive: true, force: true })
  }
})
