/**
 * Priority classes by path prefix (routing.classes). Pure: resolves the configured
 * list once, then classifies each request path.
 */
import type { Priority } from '../core/priority.ts'
import type { RoutingSpec } from '../spec/schema.ts'

/** A resolved class. `pathPrefix` undefined marks the catch-all class. */
export interface PriorityClass {
  readonly name: string
  readonly priority: Priority
  readonly pathPrefix: string | undefined
}

/** The class of requests that match no configured class when no class is a catch-all. */
export const defaultClass: PriorityClass = { name: 'normal', priority: 'normal', pathPrefix: undefined }

/**
 * The classes in match order: configured prefixed classes in file order, then the
 * catch-all — the first configured class without a prefix, else `defaultClass`.
 */
export function resolveClasses(classes: RoutingSpec['classes']): PriorityClass[] {
  const prefixed = classes.filter((c) => c.pathPrefix !== undefined).map((c) => ({ name: c.name, priority: c.priority, pathPrefix: c.pathPrefix }))
  const catchAll = classes.find((c) => c.pathPrefix === undefined)
  return [...prefixed, catchAll ? { name: catchAll.name, priority: catchAll.priority, pathPrefix: undefined } : defaultClass]
}

/**
 * The index in `resolved` of the class for a request path (the request target as
 * received, query included): the first class whose prefix the path starts with,
 * else the catch-all (always last). A prefix matches as a string prefix, so
 * `/checkout` matches `/checkout/pay` and also `/checkouts`; end it with `/` to be strict.
 */
export function classIndex(resolved: readonly PriorityClass[], path: string): number {
  const last = resolved.length - 1
  for (let i = 0; i < last; i++) {
    const prefix = resolved[i]?.pathPrefix
    if (prefix !== undefined && path.startsWith(prefix)) return i
  }
  return last
}
