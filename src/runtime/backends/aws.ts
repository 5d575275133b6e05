/**
 * The `aws` backend: a group drives an EC2 Auto Scaling group (AwsProvider, one for every aws
 * group of the running tide, with one AwsApi per region); its signals are CloudWatch's
 * (CloudWatchSignals: cpu per instance, requests per target of its ALB target group) plus the
 * group's external sources; its health is the Auto Scaling group's own health status; and its
 * traffic is the load balancer's, which AWS routes by itself: setTargets has nothing to do, and a
 * drain runs the group's backup command (lifecycle.backup) before the terminate. The load
 * balancer's own drain is AWS's: a terminated instance is deregistered from the group's target
 * groups (their deregistration delay honoured) and a terminating lifecycle hook holds it until
 * tide completes the action (docs/providers.md, "AWS: draining").
 */
import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch'
import type { Traffic } from '../../controller/backend.ts'
import { withExternalSignals } from '../../controller/metrics-source.ts'
import { CloudWatchSignals } from '../../metrics/cloudwatch.ts'
import { ExternalSignals } from '../../metrics/external/external-signals.ts'
import { AwsApi } from '../../providers/aws/aws-api.ts'
import { AwsProvider } from '../../providers/aws/aws-provider.ts'
import type { GroupSpec } from '../../spec/schema.ts'
import { BackupRunner } from '../backup-once.ts'
import { runBackup } from '../local-drainer.ts'
import type { BackendContext, BackendKind, GroupBackend } from './backend-kind.ts'

/** The aws kind: one provider and one set of SDK clients per region, for every aws group. */
export function awsBackends(ctx: BackendContext): BackendKind {
  const apis = new Map<string, AwsApi>()
  const watchers = new Map<string, CloudWatchClient>()
  const apiFor = (region: string): AwsApi => {
    let api = apis.get(region)
    if (api === undefined) {
      api = new AwsApi({ region })
      apis.set(region, api)
    }
    return api
  }
  const cloudWatchFor = (region: string): CloudWatchClient => {
    let c = watchers.get(region)
    if (c === undefined) {
      c = new CloudWatchClient({ region, maxAttempts: 3, requestHandler: { requestTimeout: 10_000, connectionTimeout: 3000, throwOnRequestTimeout: true } })
      watchers.set(region, c)
    }
    return c
  }
  const provider = new AwsProvider({ apiFor, clock: ctx.clock })
  const cloudWatch = new CloudWatchSignals({
    getMetricData: (region, input) => cloudWatchFor(region).send(new GetMetricDataCommand(input)),
    instanceIds: (spec) => provider.instanceIds(spec.group),
  })
  const runner = ctx.backupRuns === undefined ? undefined : new BackupRunner({ store: ctx.backupRuns, stateDir: ctx.stateDir, events: ctx.events, clock: ctx.clock, ...(ctx.persist === undefined ? {} : { persist: ctx.persist }) })
  const traffic: Traffic = {
    setTargets: () => {
      // AWS's load balancer routes to the Auto Scaling group's instances by itself.
    },
    drain: async (spec, instance) => {
      const backup = spec.lifecycle.backup
      if (backup === undefined) return
      const env: Record<string, string> = { TIDE_GROUP: spec.group, TIDE_INSTANCE_ID: instance.id }
      const ip = instance.meta?.privateIp
      if (ip !== undefined) env.TIDE_INSTANCE_IP = ip
      const command = { argv: backup.command, env, timeoutMs: backup.timeoutSeconds * 1000, cwd: spec.launch?.cwd }
      // Exactly once per instance across restarts where the store records runs (tide up); else once per drain.
      const r = runner === undefined ? await runBackup(command.argv, env, command.timeoutMs, command.cwd) : await runner.run(spec.group, instance.id, command, new Set((await provider.list(spec)).map((x) => x.id)))
      ctx.events.append({ atMs: ctx.clock.now(), group: spec.group, type: 'drain-start', message: `${instance.id}: backup ${r.detail}`, instanceId: instance.id })
    },
  }
  return {
    start(spec: GroupSpec): Promise<GroupBackend> {
      return Promise.resolve({
        provider,
        signals: withExternalSignals(cloudWatch, new ExternalSignals()),
        health: { health: (id) => provider.health(id) },
        traffic,
        keepsInstancesOnStop: true,
        refuses: (next) => (next.provider === spec.provider ? undefined : `group ${spec.group}: provider ${spec.provider} → ${next.provider} takes a restart of tide up (remove the group, reload, then add it back)`),
        stop: () => Promise.resolve(),
      })
    },
  }
}
