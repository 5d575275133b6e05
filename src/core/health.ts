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
