/**
 * CloudWatch signals of an aws group (src/metrics/cloudwatch.ts) read from a real moto server:
 * CPUUtilization per instance and RequestCountPerTarget of the group's target group, put there
 * with the SDK's PutMetricData as EC2 and the load balancer would; a CloudWatch that cannot be
 * reached leaves the values missing and never rejects. Skipped, saying why, without moto_server.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { CloudWatchClient, GetMetricDataCommand, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch'
import type { InstanceView } from '../../src/engine/types.ts'
import { CloudWatchSignals, targetGroupDimension } from '../../src/metrics/cloudwatch.ts'
import { GroupSchema } from '../../src/spec/schema.ts'
import { startMoto, TEST_REGION, type Moto } from '../support/moto.ts'
import { missingBinary } from '../support/system-binaries.ts'

const skip = missingBinary('moto_server')
const TG = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/shop/0123456789abcdef'
let moto: Moto | undefined

before(async () => {
  if (skip === false) moto = await startMoto()
})
after(async () => {
  await moto?.stop()
})

const spec = GroupSchema.parse({ group: 'web', provider: 'aws', aws: { autoScalingGroupName: 'web', region: TEST_REGION, albTargetGroupArn: TG } })
const view = (id: string, phase: InstanceView['phase'] = 'in-service'): InstanceView => ({ id, phase, size: spec.size, launchedAtMs: 0, protectedFromScaleIn: false })

test('the TargetGroup dimension is the ARN\'s resource part', () => {
  assert.equal(targetGroupDimension(TG), 'targetgroup/shop/0123456789abcdef')
  assert.equal(targetGroupDimension('arn:aws:iam::1:role/x'), undefined)
})

test('cpu per instance and requests per target from CloudWatch (moto)', { skip }, async () => {
  const url = (moto as Moto).url
  const client = new CloudWatchClient({ region: TEST_REGION, endpoint: url, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } })
  try {
    const at = new Date(Date.now() - 30_000)
    await client.send(
      new PutMetricDataCommand({
        Namespace: 'AWS/EC2',
        MetricData: [
          { MetricName: 'CPUUtilization', Dimensions: [{ Name: 'InstanceId', Value: 'i-aaa' }], Value: 42, Unit: 'Percent', Timestamp: at },
          { MetricName: 'CPUUtilization', Dimensions: [{ Name: 'InstanceId', Value: 'i-bbb' }], Value: 90, Unit: 'Percent', Timestamp: at },
        ],
      }),
    )
    await client.send(new PutMetricDataCommand({ Namespace: 'AWS/ApplicationELB', MetricData: [{ MetricName: 'RequestCountPerTarget', Dimensions: [{ Name: 'TargetGroup', Value: 'targetgroup/shop/0123456789abcdef' }], Value: 600, Unit: 'Count', Timestamp: at }] }))
    const signals = new CloudWatchSignals({ getMetricData: (_region, input) => client.send(new GetMetricDataCommand(input)), instanceIds: () => ['i-aaa', 'i-bbb', 'i-ccc'] })
    assert.equal(signals.read(spec, [view('i-aaa')], Date.now()), undefined, 'nothing before the first refresh')
    const nowMs = Date.now()
    await signals.refresh(spec, nowMs)
    assert.equal(signals.lastError('web'), undefined)
    const s = signals.read(spec, [view('i-aaa'), view('i-bbb'), view('i-ccc'), view('i-ddd', 'pending')], nowMs)
    assert.ok(s !== undefined)
    assert.equal(s.instances.get('i-aaa')?.cpuRatio, 0.42)
    assert.equal(s.instances.get('i-bbb')?.cpuRatio, 0.9)
    assert.equal(s.instances.get('i-aaa')?.cpuWindowMs, 60_000)
    assert.ok((s.instances.get('i-aaa')?.cpuAtMs ?? 0) <= nowMs)
    // No datapoint: no cpu (missing, never idle), but it serves, so it has the per-target rate.
    assert.equal(s.instances.get('i-ccc')?.cpuRatio, undefined)
    // 600 requests per target in a 60 s period: 10/s per serving instance, 30/s for the three that serve.
    assert.equal(s.instances.get('i-ccc')?.rps, 10)
    assert.equal(s.instances.has('i-ddd'), false)
    assert.equal(s.group.rps, 30)
  } finally {
    client.destroy()
  }
})

test('a CloudWatch that cannot be reached leaves every value missing and says why; refresh never rejects', async () => {
  const signals = new CloudWatchSignals({ getMetricData: () => Promise.reject(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' })), instanceIds: () => ['i-aaa'] })
  await signals.refresh(spec, Date.now())
  assert.equal(signals.read(spec, [view('i-aaa')], Date.now()), undefined)
  assert.match(signals.lastError('web') ?? '', /CloudWatch GetMetricData: connect ECONNREFUSED/)
})
