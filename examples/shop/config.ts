/**
 * The shop's settings, all from the environment so that tide's local provider (and
 * any other launcher) configures it: PORT, TIDE_CPU, TIDE_MEMORY_MIB from tide;
 * SHOP_* for the shop itself. Bad values are refused at start with a message that
 * names the variable, never silently replaced.
 */

/** Everything the shop reads from its environment. */
export interface ShopConfig {
  /** TCP port on 127.0.0.1; 0 picks a free one (logged at start). Env PORT, default 8081. */
  readonly port: number
  /** Cpu cores this instance is sized for (TIDE_CPU, default 1): work threads = ceil(cpu), each throttled to cpu/threads of a core. */
  readonly cpu: number
  /** Memory this instance is sized for (TIDE_MEMORY_MIB, default 512): sizes SQLite's page cache (1/8 of it). */
  readonly memoryMiB: number
  /** SQLite file shared by every instance (SHOP_DB, default data/shop.db); its directory is created. */
  readonly dbPath: string
  /** Cpu milliseconds one page render costs (SHOP_WORK_MS, default 4); checkout costs twice that. 0 disables the work. */
  readonly workMs: number
  /** How long SIGTERM waits for in-flight requests before giving up (SHOP_SHUTDOWN_TIMEOUT_MS, default 25 000). */
  readonly shutdownTimeoutMs: number
  /** The instance's name in logs and orders (TIDE_INSTANCE_ID, else shop-<pid>). */
  readonly instanceId: string
}

/** Thrown for an environment variable the shop cannot use. */
export class ShopConfigError extends Error {
  constructor(variable: string, value: string, expected: string) {
    super(`${variable}=${JSON.stringify(value)}: expected ${expected}`)
    this.name = 'ShopConfigError'
  }
}

function numberFrom(env: NodeJS.ProcessEnv, name: string, fallback: number, ok: (n: number) => boolean, expected: string): number {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  const n = Number(raw)
  if (!Number.isFinite(n) || !ok(n)) throw new ShopConfigError(name, raw, expected)
  return n
}

/** Reads the shop's configuration from `env`. Throws ShopConfigError naming the first bad variable. */
export function readShopConfig(env: NodeJS.ProcessEnv): ShopConfig {
  return {
    port: numberFrom(env, 'PORT', 8081, (n) => Number.isInteger(n) && n >= 0 && n <= 65535, 'a port number 0-65535'),
    cpu: numberFrom(env, 'TIDE_CPU', 1, (n) => n > 0 && n <= 256, 'cpu cores, a number > 0'),
    memoryMiB: numberFrom(env, 'TIDE_MEMORY_MIB', 512, (n) => Number.isInteger(n) && n > 0, 'a whole number of MiB > 0'),
    dbPath: env.SHOP_DB !== undefined && env.SHOP_DB !== '' ? env.SHOP_DB : 'data/shop.db',
    workMs: numberFrom(env, 'SHOP_WORK_MS', 4, (n) => n >= 0 && n <= 10_000, 'milliseconds >= 0'),
    shutdownTimeoutMs: numberFrom(env, 'SHOP_SHUTDOWN_TIMEOUT_MS', 25_000, (n) => n > 0, 'milliseconds > 0'),
    instanceId: env.TIDE_INSTANCE_ID !== undefined && env.TIDE_INSTANCE_ID !== '' ? env.TIDE_INSTANCE_ID : `shop-${process.pid}`,
  }
}
