/**
 * The live event stream (GET /events/stream, server-sent events), one per page: every view
 * subscribes to it instead of opening its own. The browser's EventSource reconnects by itself
 * and resumes from the last id it saw (Last-Event-ID). The header's badge says whether it is
 * connected.
 */

/** @typedef {{ id?: number, atMs: number, group: string, type: string, message: string, [k: string]: unknown }} TideEvent */

/** @type {Set<(e: TideEvent) => void>} */
const listeners = new Set()
/** @type {EventSource|undefined} */
let source

/** @param {string} text @param {string} state */
function badge(text, state) {
  const b = document.getElementById('live')
  if (b === null) return
  b.textContent = text
  b.dataset.state = state
}

/** Opens the stream once; each event's data is the event as GET /events shows it. */
function open() {
  if (source !== undefined) return
  source = new EventSource('/events/stream')
  source.onopen = () => {
    badge('live', 'open')
  }
  source.onerror = () => {
    badge('reconnecting…', 'error')
  }
  // Events arrive with their type as the SSE event name: listen to messages of every name.
  const onEvent = (/** @type {MessageEvent} */ m) => {
    let e
    try {
      e = JSON.parse(m.data)
    } catch {
      return
    }
    for (const l of listeners) l(e)
  }
  source.onmessage = onEvent
  for (const type of EVENT_TYPES) source.addEventListener(type, onEvent)
}

/**
 * The event types tide records (src/store/events.ts TIDE_EVENT_TYPES), each a named SSE event;
 * test/ui/live.test.ts fails when the two lists differ.
 */
export const EVENT_TYPES = [
  'decision', 'launch', 'launch-failed', 'drain-start', 'terminate', 'terminate-failed', 'adopted', 'instance-ready', 'instance-unhealthy',
  'instance-failed', 'instance-replaced', 'at-max-capacity', 'quota-exhausted', 'resize', 'forecast', 'reconcile-failed', 'provider-throttled',
  'capacity-unavailable', 'failover', 'failback', 'group-added', 'group-changed', 'group-removed', 'group-paused', 'group-resumed',
  'instance-protected', 'instance-unprotected', 'manual-scale', 'manual-scale-ended', 'instance-standby', 'instance-in-service',
  'risk', 'risk-cleared', 'leadership', 'recovered', 'data-plane',
]

/**
 * Calls `listener` with every event from now on; returns the function that stops it.
 * @param {(e: TideEvent) => void} listener
 * @returns {() => void}
 */
export function subscribe(listener) {
  open()
  listeners.add(listener)
  return () => {
    listeners.delete(listener)
  }
}
