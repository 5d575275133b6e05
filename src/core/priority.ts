/**
 * Request priority classes (routing.classes[].priority): the one list behind the
 * config schema, the router's admission control and its per-class statistics.
 */

/** Every priority, highest first. Admission sheds low first and refuses high last. */
export const Priorities = ['high', 'normal', 'low'] as const

/** Priority of a class of requests. */
export type Priority = (typeof Priorities)[number]
