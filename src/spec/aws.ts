/**
 * The `aws:` section of a group whose provider is `aws` (an EC2 Auto Scaling group that tide
 * drives), and the cross-field rules that tie it to the rest of the group. Pure: schema.ts
 * adds the section to GroupSchema and calls awsGroupIssues() from its refinement. Credentials,
 * region defaults and the endpoint come from the AWS SDK's standard chain (AWS_PROFILE,
 * AWS_ACCESS_KEY_ID, AWS_ENDPOINT_URL, …), so there is no tide-specific knob for them.
 */
import { z } from 'zod'

/** An AWS region name: `us-east-1`, `eu-central-1`, `us-gov-west-1`, `ap-southeast-4`. */
const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/

/** An EC2 instance type: family, generation and options, a dot, the size (`t3.micro`, `m7g.2xlarge`, `u-6tb1.metal`). */
const INSTANCE_TYPE = /^[a-z0-9-]+\.[a-z0-9-]+$/

/** An Application Load Balancer target group ARN (arn:aws…:elasticloadbalancing:REGION:ACCOUNT:targetgroup/NAME/ID). */
const TARGET_GROUP_ARN = /^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:targetgroup\/[A-Za-z0-9-]+\/[0-9a-f]+$/

/**
 * Which Auto Scaling group a tide group drives and how. `ownsMinMax` false (the default) keeps
 * the ASG's own MinSize/MaxSize as the bounds tide scales within; true makes tide set them to the
 * group's replicas.min/max. `instanceTypes` maps the group's size names (size.name, sizes[].name)
 * to EC2 instance types, for vertical scaling and to read an instance's size from its type.
 */
export const AwsSchema = z.strictObject({
  autoScalingGroupName: z.string().min(1).max(255),
  region: z.string().regex(REGION, 'must be an AWS region name such as us-east-1'),
  ownsMinMax: z.boolean().default(false),
  albTargetGroupArn: z.string().regex(TARGET_GROUP_ARN, 'must be a target group ARN: arn:aws:elasticloadbalancing:REGION:ACCOUNT:targetgroup/NAME/ID').optional(),
  instanceTypes: z.record(z.string().min(1), z.string().regex(INSTANCE_TYPE, 'must be an EC2 instance type such as t3.micro')).default({}),
  /**
   * CloudWatch period of the signals, seconds (60 for EC2's basic monitoring, or a multiple of
   * 60; detailed monitoring publishes per minute too). Also the window of cpu and request counts.
   */
  metricsPeriodSeconds: z.number().int().min(60).max(3600).refine((s) => s % 60 === 0, 'must be a multiple of 60').default(60),
  /**
   * The longest a launch waits for the new instances to appear in the group, seconds; the ones
   * that appear later are listed by the next ticks. A scaling activity that fails within this
   * time (no capacity, a quota) fails the launch.
   */
  launchWaitSeconds: z.number().nonnegative().max(120).default(10),
  /**
   * The longest a terminate waits for an instance held by a terminating lifecycle hook
   * (Terminating:Wait) to complete its action, seconds.
   */
  hookWaitSeconds: z.number().nonnegative().max(600).default(60),
})

export type AwsSpec = z.infer<typeof AwsSchema>

/** The parts of a group the aws rules read (a structural subset of GroupSpec, to keep this file below schema.ts). */
export interface AwsGroupFields {
  readonly provider: string
  readonly aws?: AwsSpec | undefined
  readonly size: { readonly name?: string | undefined; readonly cpu: number; readonly memoryMiB: number }
  readonly sizes: readonly { readonly name?: string | undefined; readonly cpu: number; readonly memoryMiB: number }[]
  readonly strategy: string
  readonly vertical: { readonly mode: string }
  readonly lifecycle: { readonly preStop?: unknown }
}

/** One problem of a group's aws settings: the path of the field and what is wrong. */
export interface AwsIssue {
  readonly path: (string | number)[]
  readonly message: string
}

/**
 * What is wrong with a group's aws settings, empty when nothing is:
 * - provider aws needs the `aws` section, and another provider must not have one;
 * - `lifecycle.preStop` is refused: tide cannot reach an instance inside a VPC, and the instance's
 *   own shutdown runs while a terminating lifecycle hook holds it (docs/providers.md);
 * - when the group can change size (strategy vertical or mixed, vertical.mode auto, a sizes
 *   ladder) or maps any type, every size must have a name with an instance type in
 *   aws.instanceTypes, so that no size is launched with a type tide would have to guess.
 */
export function awsGroupIssues(g: AwsGroupFields): AwsIssue[] {
  if (g.provider !== 'aws') {
    return g.aws === undefined ? [] : [{ path: ['aws'], message: `only for provider aws (this group's provider is ${g.provider})` }]
  }
  if (g.aws === undefined) return [{ path: ['aws'], message: 'a group with provider aws needs aws: { autoScalingGroupName, region }' }]
  const issues: AwsIssue[] = []
  if (g.lifecycle.preStop !== undefined) {
    issues.push({ path: ['lifecycle', 'preStop'], message: 'not supported with provider aws: tide does not reach instances inside the VPC; let the instance drain itself under a terminating lifecycle hook, which tide completes (docs/providers.md)' })
  }
  const types = g.aws.instanceTypes
  const resizes = g.strategy !== 'horizontal' || g.vertical.mode === 'auto' || g.sizes.length > 0 || Object.keys(types).length > 0
  if (!resizes) return issues
  const check = (s: AwsGroupFields['size'], path: (string | number)[]) => {
    if (s.name === undefined) issues.push({ path: [...path, 'name'], message: `size (cpu ${s.cpu}, ${s.memoryMiB} MiB) needs a name mapped to an instance type in aws.instanceTypes` })
    else if (types[s.name] === undefined) issues.push({ path: [...path, 'name'], message: `size ${s.name} has no instance type: add aws.instanceTypes.${s.name} (e.g. t3.large)` })
  }
  check(g.size, ['size'])
  g.sizes.forEach((s, i) => {
    check(s, ['sizes', i])
  })
  return issues
}
