// A fresh temporary directory per test, removed afterwards.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'

/** Creates a temporary directory that is removed when the test ends. */
export function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'tide-store-'))
  t.after(() => {
    rmSync(dir, { recursive: true, force: true })
  })
  return dir
}
