/**
 * An InstanceRegistry kept in one JSON file. Each change rewrites the whole file to a
 * temporary name beside it, fsyncs it and renames it over the old one, so a crash
 * leaves either the old or the new file — never a torn one. Meant for the tens of
 * instances one machine runs; every call reads the file anew, so two provider
 * objects over the same file (an old and a restarted tide) see the same records.
 * Not safe for two tide processes writing at once; tide runs one controller per store.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs'
import { dirname } from 'node:path'
import { RegistryError } from '../errors.ts'
import type { InstanceRegistry, LocalInstanceEntry } from './instance-registry.ts'

interface RegistryFile {
  readonly version: 1
  readonly instances: LocalInstanceEntry[]
}

function isEntry(v: unknown): v is LocalInstanceEntry {
  if (typeof v !== 'object' || v === null) return false
  const e = v as Record<string, unknown>
  return (
    typeof e.id === 'string' &&
    typeof e.group === 'string' &&
    typeof e.pid === 'number' &&
    typeof e.startTime === 'string' &&
    typeof e.port === 'number' &&
    typeof e.launchedAtMs === 'number' &&
    typeof e.logPath === 'string' &&
    typeof e.size === 'object' &&
    e.size !== null
  )
}

/** A JSON-file InstanceRegistry; the file and its directory are created on the first write. */
export class FileInstanceRegistry implements InstanceRegistry {
  /** The registry file's path. */
  readonly path: string
  #tmpCounter = 0

  constructor(path: string) {
    this.path = path
  }

  list(group: string): LocalInstanceEntry[] {
    return this.#read().filter((e) => e.group === group)
  }

  put(entry: LocalInstanceEntry): void {
    const all = this.#read()
    const i = all.findIndex((e) => e.group === entry.group && e.id === entry.id)
    if (i >= 0) all[i] = entry
    else all.push(entry)
    this.#write(all)
  }

  remove(group: string, id: string): void {
    const all = this.#read()
    const kept = all.filter((e) => !(e.group === group && e.id === id))
    if (kept.length !== all.length) this.#write(kept)
  }

  #read(): LocalInstanceEntry[] {
    let text: string
    try {
      text = readFileSync(this.path, 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
      throw new RegistryError('local', `cannot read instance registry ${this.path}: ${(err as Error).message}`, { cause: err })
    }
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch (err) {
      throw new RegistryError('local', `instance registry ${this.path} is not valid JSON: ${(err as Error).message}`, { cause: err })
    }
    const file = parsed as Partial<RegistryFile> | null
    if (file?.version !== 1 || !Array.isArray(file.instances)) {
      throw new RegistryError('local', `instance registry ${this.path} is not a version 1 registry file`)
    }
    const entries: LocalInstanceEntry[] = []
    file.instances.forEach((e: unknown, i) => {
      if (!isEntry(e)) throw new RegistryError('local', `instance registry ${this.path}: instances[${i}] is not an instance record`)
      entries.push(e)
    })
    return entries
  }

  #write(entries: LocalInstanceEntry[]): void {
    const body: RegistryFile = { version: 1, instances: entries }
    const tmp = `${this.path}.${process.pid}.${++this.#tmpCounter}.tmp`
    try {
      mkdirSync(dirname(this.path), { recursive: true })
      const fd = openSync(tmp, 'w', 0o600)
      try {
        writeSync(fd, JSON.stringify(body, null, 2) + '\n')
        fsyncSync(fd)
      } finally {
        closeSync(fd)
      }
      renameSync(tmp, this.path)
    } catch (err) {
      throw new RegistryError('local', `cannot write instance registry ${this.path}: ${(err as Error).message}`, { cause: err })
    }
  }
}
