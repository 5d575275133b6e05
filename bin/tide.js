#!/usr/bin/env node
// The `tide` command. `npm ci` compiles src/ into dist/ (the `prepare` script), so a command
// starts without compiling TypeScript; when a source is newer than that build (a developer
// editing src/, or no build at all) the sources run through tsx instead, so what runs is always
// what is in src/.
import { readdirSync, statSync } from 'node:fs'

/** The newest modification time under `dir`, ms (0 when it cannot be read). */
function newest(dir) {
  let max = 0
  let entries
  try {
    entries = readdirSync(dir, { withFileTypes: true })
  } catch {
    return 0
  }
  for (const e of entries) {
    const path = `${dir}/${e.name}`
    max = Math.max(max, e.isDirectory() ? newest(path) : statSync(path).mtimeMs)
  }
  return max
}

function builtAtMs() {
  try {
    return statSync(new URL('../dist/.build-stamp', import.meta.url)).mtimeMs
  } catch {
    return -1
  }
}

const src = new URL('../src', import.meta.url).pathname
if (process.env.TIDE_FROM_SOURCE !== '1' && builtAtMs() >= newest(src)) {
  await import('../dist/cli/main.js')
} else {
  const { register } = await import('tsx/esm/api')
  register()
  await import('../src/cli/main.ts')
}
