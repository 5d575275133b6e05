/** The table of Auto Scaling lifecycle states → tide statuses, and the reading of a failed activity (src/providers/aws/lifecycle-states.ts). */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { countsTowardDesired, isCapacityFailure, isLeaving, statusOfLifecycleState } from '../../../src/providers/aws/lifecycle-states.ts'

// [state, status (undefined: not listed), counts toward desired, leaving]
const rows: [string, string | undefined, boolean, boolean][] = [
  ['Pending', 'starting', true, false],
  ['Pending:Wait', 'starting', true, false],
  ['Pending:Proceed', 'starting', true, false],
  ['InService', 'running', true, false],
  ['Terminating', 'stopping', false, true],
  ['Terminating:Wait', 'stopping', false, true],
  ['Terminating:Proceed', 'stopping', false, true],
  ['Terminated', undefined, false, true],
  ['Detaching', 'stopping', false, true],
  ['Detached', undefined, false, true],
  ['EnteringStandby', 'standby', false, false],
  ['Standby', 'standby', false, false],
  ['Warmed:Pending', 'starting', false, false],
  ['Warmed:Terminated', undefined, false, false],
  ['SomeFutureState', 'stopping', false, false],
]
for (const [state, status, counts, leaving] of rows) {
  test(`lifecycle state ${state} → ${status ?? 'not listed'}${counts ? ', counts toward desired' : ''}${leaving ? ', leaving' : ''}`, () => {
    assert.equal(statusOfLifecycleState(state), status)
    assert.equal(countsTowardDesired(state), counts)
    assert.equal(isLeaving(state), leaving)
  })
}

const activities: [string, boolean][] = [
  ['We currently do not have sufficient m5.large capacity in the Availability Zone you requested (us-east-1a). (InsufficientInstanceCapacity)', true],
  ['You have requested more vCPU capacity than your current vCPU limit of 32 allows (VcpuLimitExceeded)', true],
  ['Your quota allows for 0 more running instance(s). (InstanceLimitExceeded)', true],
  ['The image id \'[ami-0abc]\' does not exist', false],
  ['Invalid launch template: the security group sg-1 does not exist', false],
]
for (const [message, capacity] of activities) {
  test(`a failed activity "${message.slice(0, 40)}…" is ${capacity ? '' : 'not '}a capacity failure`, () => {
    assert.equal(isCapacityFailure(message), capacity)
  })
}
