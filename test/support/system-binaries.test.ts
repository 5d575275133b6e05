import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const HELPER = new URL('./system-binaries.ts', import.meta.url).href

/** What missingBinary says for each program in a fresh process whose PATH is exactly `path`. */
function missingWith(path: string, programs: readonly string[]): Record<string, string | false> {
  const script = `import { missingBinary } from ${JSON.stringify(HELPER)}; console.log(JSON.stringify(Object.fromEntries(${JSON.stringify(programs)}.map((p) => [p, missingBinary(p)]))))`
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { env: { PATH: path }, encoding: 'utf8', timeout: 30_000 })
  return JSON.parse(out) as Record<string, string | false>
}

test('missingBinary: an executable file on PATH is found; a missing one, a folder or a non-executable file give the reason', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tide-bin-'))
  try {
    writeFileSync(join(dir, 'wrk'), '#!/bin/sh\n')
    chmodSync(join(dir, 'wrk'), 0o755)
    mkdirSync(join(dir, 'nginx'))
    writeFileSync(join(dir, 'prometheus'), '#!/bin/sh\n')
    assert.deepEqual(missingWith(dir, ['wrk', 'nginx', 'prometheus', 'haproxy']), {
      wrk: false,
      nginx: 'nginx is not installed (apt-get install nginx)',
      prometheus: 'prometheus is not installed (apt-get install prometheus)',
      haproxy: 'haproxy is not installed (apt-get install haproxy)',
    })
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
