/** `tide export --format hpa`, the real command: manifests on stdout, what does not convert on stderr, bad flags exit 2. */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { parse } from 'yaml'

const BIN = fileURLToPath(new URL('../../bin/tide.js', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'tide-export-'))
after(() => {
  rmSync(dir, { recursive: true, force: true })
})

function tide(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr })
    })
  })
}

test('export writes an HPA per group and names what does not convert', async () => {
  const config = join(dir, 'tide.yaml')
  writeFileSync(config, 'group: web\nprovider: kubernetes\nkubernetes: { namespace: shop, deployment: web }\nreplicas: { min: 2, max: 8 }\nmetrics:\n  - { type: cpu, target: { averageUtilization: 70 } }\n  - { type: latency, target: { valueMs: 200 } }\n')
  const r = await tide(['export', '-c', config, '--format', 'hpa'])
  assert.equal(r.code, 0, r.stderr)
  const hpa = parse(r.stdout) as { kind: string; spec: { scaleTargetRef: { name: string }; maxReplicas: number } }
  assert.equal(hpa.kind, 'HorizontalPodAutoscaler')
  assert.equal(hpa.spec.scaleTargetRef.name, 'web')
  assert.equal(hpa.spec.maxReplicas, 8)
  assert.match(r.stderr, /^exported 1 group as HorizontalPodAutoscaler \(web\); not converted:\n {2}web: metrics\[1\]: latency: not converted/)
  const bad = await tide(['export', '-c', config, '--format', 'vpa'])
  assert.equal(bad.code, 2)
  assert.match(bad.stderr, /--format vpa: the one format is hpa/)
})
