/**
 * Which controller events are alerts, and under which name a group's `alerts[].on`
 * list (schema.ts AlertEventSchema) subscribes to them. A dead instance and one that
 * fails its health checks are the same page for the on-call engineer
 * ('instance-unhealthy'); the platform refusing a scale-out for want of room (an AWS
 * InsufficientInstanceCapacity, an Auto Scaling group at its MaxSize) pages as
 * 'capacity-unavailable', once per streak; a decision alerts ('scaled') only when it changed the
 * replica count or the size, never for a hold or a skip. A risk the radar sees ahead and its
 * clearing are both 'risk' (the payload's eventType tells them apart).
 */
import type { TideEvent, TideEventType } from '../store/events.ts'
import type { AlertEvent } from '../spec/schema.ts'

/** Every event type's alert name; a Record, so that a new event type must be mapped here. */
const ALERT_OF: Readonly<Record<TideEventType, AlertEvent | undefined>> = {
  'instance-failed': 'instance-unhealthy',
  'instance-unhealthy': 'instance-unhealthy',
  'instance-replaced': 'instance-replaced',
  'at-max-capacity': 'at-max-capacity',
  'quota-exhausted': 'quota-exhausted',
  decision: 'scaled',
  launch: undefined,
  'launch-failed': undefined,
  'drain-start': undefined,
  terminate: undefined,
  'terminate-failed': undefined,
  adopted: undefined,
  'instance-ready': undefined,
  resize: undefined,
  forecast: undefined,
  'reconcile-failed': undefined,
  'provider-throttled': undefined,
  'capacity-unavailable': 'capacity-unavailable',
  'group-added': undefined,
  'group-changed': undefined,
  'group-removed': undefined,
  'group-paused': undefined,
  'group-resumed': undefined,
  'instance-protected': undefined,
  'instance-unprotected': undefined,
  'manual-scale': undefined,
  'manual-scale-ended': undefined,
  'instance-standby': undefined,
  'instance-in-service': undefined,
  failover: undefined,
  failback: undefined,
  risk: 'risk',
  'risk-cleared': 'risk',
  leadership: undefined,
  recovered: undefined,
  'data-plane': undefined,
}

/** The alert name of a controller event, or undefined when the event never alerts. */
export function alertNameOf(event: TideEvent): AlertEvent | undefined {
  if (event.type === 'decision' && event.decision?.kind !== 'scale') return undefined
  return ALERT_OF[event.type]
}
