/**
 * `tide import FILE`: converts Kubernetes HorizontalPodAutoscaler manifests into
 * tide.yaml group documents (see src/spec/hpa-import.ts for the mapping). The YAML goes
 * to stdout (or --out); what could not be converted is listed on stderr and as comments
 * in the YAML, so it is seen both on the terminal and later in the file.
 */
import { writeFileSync } from 'node:fs'
import { readRegularFile } from '../core/input-file.ts'
import { MAX_YAML_BYTES } from '../spec/safe-yaml.ts'
import { FileError } from '../errors.ts'
import { convertHpa } from '../spec/hpa-import.ts'
import type { Command } from './args.ts'

/** The `import` command. */
export const command: Command = {
  summary: 'convert a Kubernetes HorizontalPodAutoscaler manifest into tide.yaml',
  usage: 'FILE [--out FILE]',
  description: 'Reads autoscaling/v2 (also v2beta2, v1) HPAs, several documents or a List; other kinds are skipped. Every field that could not be converted is named on stderr.',
  examples: [
    { command: 'tide import hpa.yaml > tide.yaml', does: 'convert an HPA (kubectl get hpa shop -o yaml > hpa.yaml) into a tide group' },
    { command: 'tide import hpas.yaml --out tide.yaml', does: 'several HPAs, or a List, into one file' },
  ],
  flags: {
    out: { kind: 'output', short: 'o', description: 'write the tide.yaml here instead of stdout' },
  },
  positionals: { names: ['FILE'], min: 1, kind: 'file' },
  run(args, io) {
    const file = args.positionals[0] ?? ''
    const text = readRegularFile(file, MAX_YAML_BYTES)
    // convertHpa checks that its output is a valid tide.yaml.
    const result = convertHpa(text, file)
    const out = args.string('out')
    if (out === undefined) io.stdout.write(result.yaml)
    else {
      try {
        writeFileSync(out, result.yaml)
      } catch (err) {
        throw new FileError(out, 'write', err)
      }
    }
    const groups = result.groups.map((g) => g.group).join(', ')
    io.stderr.write(`${file}: converted ${result.groups.length} HorizontalPodAutoscaler${result.groups.length === 1 ? '' : 's'} (${groups})${out === undefined ? '' : ` → ${out}`}\n`)
    for (const n of result.notes) io.stderr.write(`  ${n.hpa}: ${n.field}: ${n.message}\n`)
    return 0
  },
}
