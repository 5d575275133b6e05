/**
 * The oracle: perfect foresight. Given the load of every simulation step in
 * advance, the cheapest schedule of instances that meets the SLO in every step,
 * when an instance takes `startupSteps` from launch to ready and is billed from
 * launch until termination. It is the physical limit that a real policy is scored
 * against (bench/quality.ts reports cost as a ratio to it).
 *
 * Need. A default-size instance serves `instanceRps` (N) within the SLO, so step t
 * needs needed(t) = max(min, ⌈load(t) / N⌉) serving instances (max replicas is
 * ignored: the oracle shows what meeting the SLO costs).
 *
 * Schedule, level by level. Think of needed(t) as a skyline; capacity level k
 * (the k-th instance) is needed exactly in the steps where needed(t) ≥ k, a union
 * of intervals. Each level is served by its own instance: it must be launched
 * `startupSteps` before an interval starts, and between two intervals of the same
 * level separated by a gap of g steps it either keeps running (cost g) or is
 * terminated and relaunched (cost startupSteps, the billed start-up). The cheaper
 * one is chosen: bridge when g < startupSteps. Levels are independent because the
 * instances are interchangeable; the tests check the result against an exhaustive
 * search on small cases.
 *
 * Window. The simulation starts warm: instances needed at step 0, and those whose
 * launch would fall before step 0, are taken as launched before the window, and only
 * their billing inside the window counts — as with the controller policies, whose
 * initial instances are ready at step 0. With `initial`, the oracle starts with the same
 * fleet as the controller policies (sized for the trace's first minutes) and keeps or stops
 * each of those instances as it pleases.
 */

/** The oracle's schedule, one value per step. */
export interface OracleSchedule {
  /** needed(t): serving instances the SLO requires in step t. */
  readonly needed: Int32Array
  /** Instances billed in step t (starting or serving). */
  readonly billed: Int32Array
  /** Instances ready and serving in step t (needed plus those bridging a gap). */
  readonly serving: Int32Array
  /** Σ billed over the steps: the cost in instance-steps. */
  readonly billedInstanceSteps: number
  /** Steps in which at least one instance was launched (not counting the warm start). */
  readonly scaleOutActions: number
  /** Steps in which at least one instance was terminated (not counting the end of the window). */
  readonly scaleInActions: number
}

/**
 * needed(t) = max(minReplicas, ⌈loadRps(t) / capacityRps⌉) for every step. A load
 * within 1e-9 of a multiple of the capacity counts as that multiple (so 200 req/s at
 * 100 req/s per instance needs 2, not 3, despite floating-point error).
 */
export function neededInstances(loadRps: Float64Array, capacityRps: number, minReplicas: number): Int32Array {
  if (!(capacityRps > 0)) throw new RangeError(`oracle: capacityRps must be > 0, got ${capacityRps}`)
  const out = new Int32Array(loadRps.length)
  for (let t = 0; t < loadRps.length; t++) {
    const n = Math.ceil((loadRps[t] ?? 0) / capacityRps - 1e-9)
    out[t] = n > minReplicas ? n : minReplicas
  }
  return out
}

/**
 * The cheapest schedule that serves needed(t) in every step, given that an instance
 * is ready `startupSteps` after its launch (see the module comment). O(steps + Σ
 * |needed(t) − needed(t−1)|) time; allocation proportional to steps and peak need.
 */
export function oracleSchedule(needed: Int32Array, startupSteps: number, initial = 0): OracleSchedule {
  if (!Number.isInteger(startupSteps) || startupSteps < 0) {
    throw new RangeError(`oracle: startupSteps must be a whole number ≥ 0, got ${startupSteps}`)
  }
  if (!Number.isInteger(initial) || initial < 0) throw new RangeError(`oracle: initial must be a whole number ≥ 0, got ${initial}`)
  const plan = planLevels(needed, startupSteps, initial)
  const steps = needed.length
  const billed = new Int32Array(steps)
  const serving = new Int32Array(steps)
  let b = 0
  let s = 0
  let total = 0
  let scaleOut = 0
  let scaleIn = 0
  for (let t = 0; t < steps; t++) {
    b += plan.billedDiff[t] ?? 0
    s += plan.servingDiff[t] ?? 0
    billed[t] = b
    serving[t] = s
    total += b
    scaleOut += plan.launchedAt[t] ?? 0
    scaleIn += plan.terminatedAt[t] ?? 0
  }
  return { needed, billed, serving, billedInstanceSteps: total, scaleOutActions: scaleOut, scaleInActions: scaleIn }
}

/** The level-by-level plan as difference arrays of the billed and serving counts, and per-step action marks. */
interface LevelPlan {
  readonly billedDiff: Int32Array
  readonly servingDiff: Int32Array
  readonly launchedAt: Uint8Array
  readonly terminatedAt: Uint8Array
}

/**
 * Walks the skyline of needed(t) once, starting and ending each level's instances (module
 * comment). Levels above needed(0) up to `initial` start the window running (the warm start the
 * controller policies get too): each is kept while it bridges to its first need, else stopped at
 * step 0 at no cost.
 */
function planLevels(needed: Int32Array, startupSteps: number, initial: number): LevelPlan {
  const steps = needed.length
  let peak = initial
  for (let t = 0; t < steps; t++) peak = Math.max(peak, needed[t] ?? 0)
  // Per level: the step its current instance's serving interval ended, or -1 while none.
  const lastEnd = new Float64Array(peak + 1).fill(-1)
  const plan: LevelPlan = {
    billedDiff: new Int32Array(steps + 1),
    servingDiff: new Int32Array(steps + 1),
    launchedAt: new Uint8Array(steps + 1),
    terminatedAt: new Uint8Array(steps + 1),
  }
  const endInstance = (level: number): void => {
    const end = lastEnd[level] ?? -1
    if (end < 0) return
    bump(plan.billedDiff, end, -1)
    bump(plan.servingDiff, end, -1)
    if (end < steps) plan.terminatedAt[end] = 1
    lastEnd[level] = -1
  }
  const startLevel = (level: number, t: number): void => {
    const end = lastEnd[level] ?? -1
    if (end >= 0 && t - end < startupSteps) {
      // Bridge the gap: the instance keeps running (and serving) from `end` to t.
      lastEnd[level] = -1
      return
    }
    endInstance(level)
    const launch = t - startupSteps
    if (launch >= 0) plan.launchedAt[launch] = 1
    bump(plan.billedDiff, launch > 0 ? launch : 0, 1)
    bump(plan.servingDiff, t, 1)
  }

  for (let k = (needed[0] ?? 0) + 1; k <= initial && steps > 0; k++) {
    bump(plan.billedDiff, 0, 1)
    bump(plan.servingDiff, 0, 1)
    lastEnd[k] = 0
  }
  let previous = 0
  for (let t = 0; t <= steps; t++) {
    const current = t < steps ? (needed[t] ?? 0) : 0
    for (let k = current + 1; k <= previous; k++) lastEnd[k] = t
    for (let k = previous + 1; k <= current; k++) startLevel(k, t)
    previous = current
  }
  for (let k = 1; k <= peak; k++) endInstance(k)
  return plan
}

function bump(a: Int32Array, i: number, by: number): void {
  a[i] = (a[i] ?? 0) + by
}
