/**
 * A real moto server (`moto_server`, the AWS mock that speaks AWS's own wire protocols) for the
 * aws provider's tests: started on 127.0.0.1 at a free port, warmed up (moto's first EC2 image
 * lookup loads its catalogue, about 4 s), reset between tests, stopped at the end. Auto Scaling
 * groups are created in it with the real SDK, as an operator's tooling would. Tests using it skip
 * with missingBinary('moto_server'); `.ci/run` fails when it is missing. Bounded waits only.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { setTimeout as sleep } from 'node:timers/promises'
import { AutoScalingClient, CreateAutoScalingGroupCommand, PutLifecycleHookCommand, SetInstanceProtectionCommand, DescribeAutoScalingGroupsCommand, type AutoScalingGroup } from '@aws-sdk/client-auto-scaling'
import { CreateLaunchTemplateCommand, EC2Client } from '@aws-sdk/client-ec2'
import { findFreePort } from '../../src/core/free-port.ts'
import { binaryPath } from './system-binaries.ts'

// The SDK warns that versions after January 2027 want Node 22; the tests run on Node 20.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true'

/** The region every test uses. */
export const TEST_REGION = 'us-east-1'

/** An AMI id moto knows. */
const AMI = 'ami-12c6146b'

/**
 * The SDK's credential chain reads these; moto accepts any. Set once per test process, before
 * any client is made; nothing real is reachable with them.
 */
export function useTestCredentials(): void {
  process.env.AWS_ACCESS_KEY_ID = 'testing'
  process.env.AWS_SECRET_ACCESS_KEY = 'testing'
  process.env.AWS_REGION = TEST_REGION
}

/** A running moto server. */
export interface Moto {
  /** http://127.0.0.1:PORT */
  readonly url: string
  /** Forgets every resource (POST /moto-api/reset). */
  reset(): Promise<void>
  stop(): Promise<void>
}

/** What a test's Auto Scaling group looks like. */
export interface TestGroup {
  readonly name: string
  readonly min: number
  readonly max: number
  readonly desired: number
  /** The launch template's instance type (t3.micro by default). */
  readonly instanceType?: string
  /** A terminating lifecycle hook of this name. */
  readonly terminatingHook?: string
}

/** Starts moto_server and resolves once it answers and its EC2 catalogue is loaded (at most 60 s). */
export async function startMoto(): Promise<Moto> {
  const binary = binaryPath('moto_server')
  if (binary === undefined) throw new Error('moto_server is not installed (pip install "moto[server]")')
  useTestCredentials()
  const port = await findFreePort('127.0.0.1')
  const url = `http://127.0.0.1:${port}`
  const child: ChildProcess = spawn(binary, ['-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-2000)
  })
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise<void>((resolve) => child.once('exit', () => { resolve(); }))
    child.kill('SIGTERM')
    const killed = await Promise.race([exited.then(() => true), sleep(5000).then(() => false)])
    if (!killed) {
      child.kill('SIGKILL')
      await Promise.race([exited, sleep(5000)])
    }
  }
  const moto: Moto = {
    url,
    async reset() {
      const res = await fetch(`${url}/moto-api/reset`, { method: 'POST', signal: AbortSignal.timeout(10_000) })
      if (!res.ok) throw new Error(`moto reset: HTTP ${res.status}`)
    },
    stop,
  }
  try {
    const deadline = Date.now() + 30_000
    for (;;) {
      if (child.exitCode !== null) throw new Error(`moto_server exited (${child.exitCode}): ${stderr}`)
      const up = await fetch(`${url}/moto-api/`, { signal: AbortSignal.timeout(1000) }).then((r) => r.ok, () => false)
      if (up) break
      if (Date.now() > deadline) throw new Error(`moto_server did not answer within 30 s: ${stderr}`)
      await sleep(100)
    }
    // Warm up: the first instance launched makes moto load its image catalogue.
    await createGroup(url, { name: 'warm-up', min: 0, max: 1, desired: 1 })
    await moto.reset()
  } catch (err) {
    await stop()
    throw err
  }
  return moto
}

/** SDK clients at `url` with the test credentials. */
export function testClients(url: string): { autoScaling: AutoScalingClient; ec2: EC2Client } {
  const config = { region: TEST_REGION, endpoint: url, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } }
  return { autoScaling: new AutoScalingClient(config), ec2: new EC2Client(config) }
}

/**
 * Creates a launch template (named after the group) and the Auto Scaling group with it in one
 * zone, plus a terminating lifecycle hook when asked; returns the group as AWS describes it.
 */
export async function createGroup(url: string, g: TestGroup): Promise<AutoScalingGroup> {
  const { autoScaling, ec2 } = testClients(url)
  try {
    await ec2.send(new CreateLaunchTemplateCommand({ LaunchTemplateName: `${g.name}-lt`, LaunchTemplateData: { ImageId: AMI, InstanceType: (g.instanceType ?? 't3.micro') as never } }))
    await autoScaling.send(
      new CreateAutoScalingGroupCommand({
        AutoScalingGroupName: g.name,
        MinSize: g.min,
        MaxSize: g.max,
        DesiredCapacity: g.desired,
        LaunchTemplate: { LaunchTemplateName: `${g.name}-lt`, Version: '$Latest' },
        AvailabilityZones: [`${TEST_REGION}a`],
      }),
    )
    if (g.terminatingHook !== undefined) {
      await autoScaling.send(new PutLifecycleHookCommand({ AutoScalingGroupName: g.name, LifecycleHookName: g.terminatingHook, LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING', HeartbeatTimeout: 300, DefaultResult: 'ABANDON' }))
    }
    return await describeGroup(url, g.name)
  } finally {
    autoScaling.destroy()
    ec2.destroy()
  }
}

/** The group as AWS (moto) describes it now. */
export async function describeGroup(url: string, name: string): Promise<AutoScalingGroup> {
  const { autoScaling, ec2 } = testClients(url)
  try {
    const out = await autoScaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }))
    const g = out.AutoScalingGroups?.[0]
    if (g === undefined) throw new Error(`no group ${name}`)
    return g
  } finally {
    autoScaling.destroy()
    ec2.destroy()
  }
}

/** Sets AWS's scale-in protection of instances (SetInstanceProtection), as an operator would. */
export async function protect(url: string, name: string, instanceIds: readonly string[], on = true): Promise<void> {
  const { autoScaling, ec2 } = testClients(url)
  try {
    await autoScaling.send(new SetInstanceProtectionCommand({ AutoScalingGroupName: name, InstanceIds: [...instanceIds], ProtectedFromScaleIn: on }))
  } finally {
    autoScaling.destroy()
    ec2.destroy()
  }
}
