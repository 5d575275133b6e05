/**
 * Health of one instance, as its checks report it. One spelling for the router (which
 * runs the checks), the controller (which maps it to a lifecycle phase) and the
 * signal sources (which pass it on).
 */

/**
 * 'healthy' or 'unhealthy' by the thresholds of the group's health checks; 'unknown'
 * until the first check completes, and always for instances nothing checks (a provider
 * without a router).
 */
export type InstanceHealth = 'healthy' | 'unhealthy' | 'unknown'

/**
 * What a provider can tell of an instance (providers/provider.ts calls it ProviderStatus): the
 * engine's lifecycle (engine/lifecycle.ts) maps it, with health and warm-up, to a phase.
 * 'failed' is an instance that died (its process exited, the platform killed it). 'standby' is
 * one the platform keeps but takes out of service and out of the count (AWS Standby).
 */
export type InstanceStatus = 'starting' | 'running' | 'stopping' | 'stopped' | 'failed' | 'standby'
