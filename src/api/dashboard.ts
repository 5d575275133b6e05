/**
 * The dashboard's files, served by the API app on its own port (docs/dashboard.md): the page and
 * its browser modules from src/ui/, uPlot's script and stylesheet and the yaml package's browser
 * build from node_modules. Nothing is built at install time: src/ui/ holds plain ES modules, and
 * both src/api/dashboard.ts and the compiled dist/api/dashboard.js find it two folders up
 * (`<package>/src/ui/`), which npm's `files` ships.
 *
 * Every answer carries a strict Content-Security-Policy (scripts, styles and connections from
 * this origin only; no inline script, no external URL, no framing). A path is looked up by
 * name, never joined blindly: each segment must be a plain file name (no `..`, no separator once
 * decoded, no NUL), the extension must be one served, and the resolved file must still lie under
 * its folder; anything else is 404. Reads follow the API's rule (open from loopback), applied by
 * the app's middleware before these routes.
 */
import { readFileSync, realpathSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { OpenAPIHono } from '@hono/zod-openapi'
import type { Context } from 'hono'
import { ApiError } from '../app/errors.ts'

/** The Content-Security-Policy of every dashboard answer: this origin only, no inline script or style element, no framing. */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ')

/** Content types by extension: only these are served. */
const TYPES: ReadonlyMap<string, string> = new Map([
  ['.html', 'text/html; charset=utf-8'],
  ['.js', 'text/javascript; charset=utf-8'],
  ['.css', 'text/css; charset=utf-8'],
  ['.svg', 'image/svg+xml'],
  ['.png', 'image/png'],
])

/** Where the files come from: a folder, and single files by name. */
interface Roots {
  /** src/ui/: the page, its modules and stylesheet. */
  readonly ui: string
  /** The yaml package's browser build (ES modules, relative imports only). */
  readonly yaml: string
  /** Single vendor files by the name they are served under. */
  readonly vendor: ReadonlyMap<string, string>
}

/** The folders and files served, resolved once; node_modules is found as Node finds it. */
function roots(): Roots {
  const require = createRequire(import.meta.url)
  const uplot = dirname(require.resolve('uplot/dist/uPlot.iife.min.js'))
  return {
    ui: fileURLToPath(new URL('../../src/ui/', import.meta.url)),
    yaml: join(dirname(require.resolve('yaml/package.json')), 'browser', 'dist'),
    vendor: new Map([
      ['uplot.js', join(uplot, 'uPlot.iife.min.js')],
      ['uplot.css', join(uplot, 'uPlot.min.css')],
    ]),
  }
}

/**
 * The file `segments` name under `root`, or undefined when they do not name a file there:
 * a segment that is empty, `.`, `..`, holds a separator or NUL once decoded, or cannot be
 * decoded; an extension not served; a path whose real location (links followed) is outside
 * the root.
 */
export function fileUnder(root: string, segments: readonly string[]): string | undefined {
  const names: string[] = []
  for (const raw of segments) {
    let name: string
    try {
      name = decodeURIComponent(raw)
    } catch {
      return undefined
    }
    if (name === '' || name === '.' || name === '..' || /[/\\\0]/.test(name)) return undefined
    names.push(name)
  }
  const last = names.at(-1)
  if (last === undefined || !TYPES.has(extensionOf(last))) return undefined
  try {
    const realRoot = realpathSync(root)
    const real = realpathSync(join(realRoot, ...names))
    if (!real.startsWith(realRoot + sep) || !statSync(real).isFile()) return undefined
    return real
  } catch {
    return undefined
  }
}

function extensionOf(name: string): string {
  const dot = name.lastIndexOf('.')
  return dot <= 0 ? '' : name.slice(dot).toLowerCase()
}

/** The answer for one file, with the dashboard's headers. */
function fileAnswer(c: Context, path: string): Response {
  const type = TYPES.get(extensionOf(path)) ?? 'application/octet-stream'
  return c.body(readFileSync(path), 200, {
    'Content-Type': type,
    'Content-Security-Policy': DASHBOARD_CSP,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    // The files change with tide's version; revalidating is cheap on loopback.
    'Cache-Control': 'no-cache',
  })
}

/** The segments of the raw (still percent-encoded) request path after `prefix`. */
function rawSegments(c: Context, prefix: string): string[] {
  const path = new URL(c.req.url).pathname
  return path.slice(prefix.length).split('/')
}

/**
 * Adds the dashboard's routes to `app`: `GET /` and `GET /ui` redirect to `/ui/`, `GET /ui/`
 * is the page, `GET /ui/vendor/uplot.js|uplot.css` uPlot, `GET /ui/vendor/yaml/…` the yaml
 * package's browser modules, `GET /ui/NAME` the dashboard's own files. Anything else under
 * /ui/ is the API's 404.
 */
export function mountDashboard(app: OpenAPIHono): void {
  const r = roots()
  const notFound = (c: Context): never => {
    throw new ApiError('TIDE_ERR_API_NOT_FOUND', `no dashboard file ${c.req.path}`)
  }
  app.get('/', (c) => c.redirect('/ui/', 302))
  app.get('/ui', (c) => c.redirect('/ui/', 302))
  app.get('/ui/', (c) => {
    const index = fileUnder(r.ui, ['index.html'])
    return index === undefined ? notFound(c) : fileAnswer(c, index)
  })
  app.get('/ui/vendor/yaml/*', (c) => {
    const file = fileUnder(r.yaml, rawSegments(c, '/ui/vendor/yaml/'))
    return file === undefined ? notFound(c) : fileAnswer(c, file)
  })
  app.get('/ui/vendor/:name', (c) => {
    const file = r.vendor.get(c.req.param('name'))
    return file === undefined ? notFound(c) : fileAnswer(c, file)
  })
  app.get('/ui/*', (c) => {
    const file = fileUnder(r.ui, rawSegments(c, '/ui/'))
    return file === undefined ? notFound(c) : fileAnswer(c, file)
  })
}
