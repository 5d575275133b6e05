/** The `aws` section of a group: its fields and the rules that tie it to the provider and the sizes (src/spec/aws.ts through GroupSchema). */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { GroupSchema } from '../../src/spec/schema.ts'

const asg = { autoScalingGroupName: 'shop-web', region: 'eu-central-1' }

test('an aws group gets the defaults: the ASG\'s own min/max, no types, 60 s metrics, bounded waits', () => {
  const g = GroupSchema.parse({ group: 'web', provider: 'aws', aws: asg })
  assert.deepEqual(g.aws, { ...asg, ownsMinMax: false, instanceTypes: {}, metricsPeriodSeconds: 60, launchWaitSeconds: 10, hookWaitSeconds: 60 })
  assert.equal(g.launch, undefined)
})

const cases: { name: string; group: Record<string, unknown>; issues?: [string, RegExp][] }[] = [
  { name: 'a full section', group: { provider: 'aws', aws: { ...asg, ownsMinMax: true, albTargetGroupArn: 'arn:aws:elasticloadbalancing:eu-central-1:123456789012:targetgroup/shop/0123456789abcdef', metricsPeriodSeconds: 300 } } },
  { name: 'a vertical group with every size mapped', group: { provider: 'aws', strategy: 'vertical', size: { name: 's', cpu: 2, memoryMiB: 4096 }, sizes: [{ name: 's', cpu: 2, memoryMiB: 4096 }, { name: 'l', cpu: 4, memoryMiB: 16384 }], aws: { ...asg, instanceTypes: { s: 't3.medium', l: 'm7g.xlarge' } } } },
  { name: 'provider aws without the section', group: { provider: 'aws' }, issues: [['aws', /a group with provider aws needs aws: \{ autoScalingGroupName, region \}/]] },
  { name: 'the section on a local group', group: { provider: 'local', launch: { command: ['node'] }, aws: asg }, issues: [['aws', /only for provider aws \(this group's provider is local\)/]] },
  { name: 'no group name', group: { provider: 'aws', aws: { region: 'us-east-1' } }, issues: [['aws.autoScalingGroupName', /expected string/i]] },
  { name: 'a bad region', group: { provider: 'aws', aws: { ...asg, region: 'Frankfurt' } }, issues: [['aws.region', /must be an AWS region name such as us-east-1/]] },
  { name: 'an unknown field', group: { provider: 'aws', aws: { ...asg, endpoint: 'http://x' } }, issues: [['aws', /unrecognized key/i]] },
  { name: 'a bad target group ARN', group: { provider: 'aws', aws: { ...asg, albTargetGroupArn: 'shop-tg' } }, issues: [['aws.albTargetGroupArn', /must be a target group ARN/]] },
  { name: 'a period not a multiple of 60', group: { provider: 'aws', aws: { ...asg, metricsPeriodSeconds: 90 } }, issues: [['aws.metricsPeriodSeconds', /multiple of 60/]] },
  { name: 'a bad instance type', group: { provider: 'aws', size: { name: 's', cpu: 1, memoryMiB: 512 }, aws: { ...asg, instanceTypes: { s: 'large' } } }, issues: [['aws.instanceTypes.s', /must be an EC2 instance type/]] },
  { name: 'preStop on an aws group', group: { provider: 'aws', lifecycle: { preStop: { http: '/drain' } }, aws: asg }, issues: [['lifecycle.preStop', /not supported with provider aws/]] },
  {
    name: 'a vertical group with an unnamed size and an unmapped one',
    group: { provider: 'aws', strategy: 'vertical', size: { cpu: 2, memoryMiB: 4096 }, sizes: [{ name: 's', cpu: 2, memoryMiB: 4096 }, { name: 'l', cpu: 4, memoryMiB: 16384 }], aws: { ...asg, instanceTypes: { s: 't3.medium' } } },
    issues: [
      ['size.name', /size \(cpu 2, 4096 MiB\) needs a name mapped to an instance type in aws.instanceTypes/],
      ['sizes.1.name', /size l has no instance type: add aws.instanceTypes.l/],
    ],
  },
]
for (const c of cases) {
  test(`aws section: ${c.name}`, () => {
    const r = GroupSchema.safeParse({ group: 'web', ...c.group })
    if (c.issues === undefined) {
      assert.equal(r.success, true, r.error?.message)
      return
    }
    if (r.success) assert.fail('expected issues')
    const got = r.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }))
    assert.deepEqual(got.map((i) => i.path), c.issues.map(([path]) => path), JSON.stringify(got))
    got.forEach((issue, i) => {
      assert.match(issue.message, c.issues?.[i]?.[1] ?? /^$/)
    })
  })
}
