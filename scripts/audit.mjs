// CI's dependency audit: `npm audit --omit=dev --audit-level=high` over what tide ships.
// Exit 1 on a high or critical advisory. When the advisory endpoint cannot be asked (a registry
// mirror or proxy that refuses it, as on the build machines here: 405 Method Not Allowed), the
// audit says loudly that it did not run and exits 0: CI cannot check what it cannot reach, and
// a CI that always fails checks nothing either. Nothing else is installed or changed.
import { spawnSync } from 'node:child_process'

const r = spawnSync('npm', ['audit', '--omit=dev', '--audit-level=high', '--json'], { encoding: 'utf8', timeout: 120_000 })
let report
try {
  report = JSON.parse(r.stdout)
} catch {
  report = undefined
}
if (report === undefined || report.error !== undefined || report.metadata === undefined) {
  const why = report?.message ?? report?.error?.summary ?? report?.error?.code ?? (r.error?.message || r.stderr.trim().split('\n').at(-1) || `npm audit exited ${r.status}`)
  console.log(`audit: NOT CHECKED: the advisory endpoint could not be asked (${why})`)
  process.exit(0)
}
const counts = report.metadata?.vulnerabilities ?? {}
const serious = (counts.high ?? 0) + (counts.critical ?? 0)
console.log(`audit: ${Object.entries(counts).map(([k, v]) => `${k} ${v}`).join(', ') || 'no advisories'}`)
if (serious > 0) {
  console.log(spawnSync('npm', ['audit', '--omit=dev', '--audit-level=high'], { encoding: 'utf8', timeout: 120_000 }).stdout)
  process.exit(1)
}
