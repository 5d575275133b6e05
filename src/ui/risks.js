/**
 * Risk warnings in words, from a group as GET /groups returns it. The risk radar (issue 11)
 * adds `risks` to a group's status (or beside it); until it does, and for a group with none,
 * this is an empty list. Each risk is shown by its `message` (or `text`, `summary`), else as
 * its JSON, so a field added later is still seen.
 */

/**
 * @param {any} g a GET /groups entry
 * @returns {string[]}
 */
export function risksOf(g) {
  const raw = g?.status?.risks ?? g?.risks
  if (!Array.isArray(raw)) return []
  return raw.map((r) => {
    if (typeof r === 'string') return r
    for (const k of ['message', 'text', 'summary']) if (typeof r?.[k] === 'string') return r[k]
    return JSON.stringify(r)
  })
}
