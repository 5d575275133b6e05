import { test } from 'node:test'
import assert from 'node:assert/strict'
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { findExecutable, isExecutable } from '../../src/core/executables.ts'

test('findExecutable: the first executable regular file of that name on the path, then in the extra folders', () => {
  const root = mkdtempSync(join(tmpdir(), 'tide-exec-'))
  try {
    const [a, b, c, extra] = ['a', 'b', 'c', 'extra'].map((d) => join(root, d)) as [string, string, string, string]
    for (const d of [a, b, c, extra]) mkdirSync(d)
    writeFileSync(join(a, 'prog'), 'not executable')
    mkdirSync(join(b, 'prog')) // a folder of that name is no program
    writeFileSync(join(c, 'prog'), '#!/bin/sh\n')
    chmodSync(join(c, 'prog'), 0o755)
    writeFileSync(join(extra, 'other'), '#!/bin/sh\n')
    chmodSync(join(extra, 'other'), 0o755)
    const path = ['', a, b, c].join(delimiter)
    assert.equal(findExecutable('prog', path), join(c, 'prog'))
    assert.equal(findExecutable('other', path), undefined)
    assert.equal(findExecutable('other', path, [extra]), join(extra, 'other'))
    assert.equal(isExecutable(join(a, 'prog')), false)
    assert.equal(isExecutable(join(root, 'missing')), false)
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
})
