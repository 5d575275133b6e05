// `npm ci` runs this (the `prepare` script): compiles src/ into dist/ so that `tide` starts
// without compiling TypeScript (bin/tide.js). Without the TypeScript compiler (an install that
// omits dev dependencies) it says so and leaves tide running from its sources through tsx.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'

const root = new URL('../', import.meta.url)
const require = createRequire(import.meta.url)
let tsc
try {
  tsc = require.resolve('typescript/bin/tsc')
} catch {
  console.log('tide: typescript is not installed; tide will run from src/ through tsx (slower to start)')
  process.exit(0)
}
const dist = new URL('dist/', root)
const stamp = new URL('dist/.build-stamp', root)
// A failed build must not leave an older stamp that says dist/ is current.
if (existsSync(stamp)) rmSync(stamp)
execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' })
mkdirSync(dist, { recursive: true })
writeFileSync(stamp, `${new Date().toISOString()}\n`)
