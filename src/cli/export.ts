/**
 * `tide export --format hpa -c tide.yaml`: writes each group as a Kubernetes
 * HorizontalPodAutoscaler v2 manifest (src/spec/hpa-export.ts) to stdout or --out, and names on
 * stderr every setting that does not convert.
 */
import { writeFileSync } from 'node:fs'
import { FileError } from '../errors.ts'
import { exportHpa } from '../spec/hpa-export.ts'
import { loadConfig } from '../spec/load.ts'
import { UsageError, type Command } from './args.ts'

/** The `export` command. */
export const command: Command = {
  summary: 'write the groups of a config as Kubernetes HorizontalPodAutoscaler manifests',
  usage: '-c FILE --format hpa [--group NAME] [--out FILE]',
  description: 'Writes one autoscaling/v2 HorizontalPodAutoscaler per group (the reverse of tide import): the scale target from the group\'s kubernetes section, min/max, cpu, memory, requests and external metrics, and behavior. What the HPA cannot express (latency targets, schedules, predictive and vertical scaling, the SLO, lifecycle hooks, …) is named on stderr, group and field.',
  examples: [
    { command: 'tide export -c tide.yaml --format hpa > hpa.yaml', does: 'every group as an HPA' },
    { command: 'tide export -c tide.yaml --format hpa --group web -o web-hpa.yaml', does: 'one group, into a file' },
  ],
  flags: {
    config: { kind: 'file', short: 'c', description: 'tide.yaml', required: true },
    format: { kind: 'string', description: 'what to write: hpa (the only format)', valueName: 'FORMAT', required: true },
    group: { kind: 'string', description: 'one group only', valueName: 'NAME' },
    out: { kind: 'output', short: 'o', description: 'write the manifests here instead of stdout' },
  },
  run(args, io) {
    const format = args.string('format')
    if (format !== 'hpa') throw new UsageError('tide export', `--format ${format ?? ''}: the one format is hpa`)
    const config = loadConfig(args.requiredString('config'))
    const only = args.string('group')
    const groups = only === undefined ? config.groups : config.groups.filter((g) => g.group === only)
    if (groups.length === 0) throw new UsageError('tide export', `--group ${only ?? ''}: no such group (${config.groups.map((g) => g.group).join(', ')})`)
    const result = exportHpa(groups)
    const out = args.string('out')
    if (out === undefined) io.stdout.write(result.yaml)
    else {
      try {
        writeFileSync(out, result.yaml)
      } catch (err) {
        throw new FileError(out, 'write', err)
      }
    }
    io.stderr.write(`exported ${String(groups.length)} group${groups.length === 1 ? '' : 's'} as HorizontalPodAutoscaler (${groups.map((g) => g.group).join(', ')})${out === undefined ? '' : ` → ${out}`}${result.notes.length > 0 ? '; not converted:' : ''}\n`)
    for (const n of result.notes) io.stderr.write(`  ${n.group}: ${n.field}: ${n.message}\n`)
    return 0
  },
}
