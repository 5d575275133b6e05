/**
 * A small fake of AWS's query protocol, put in front of a real moto server, for the paths moto
 * does not have (docs/providers.md, "AWS: what proves what"):
 * - throttling: the next N calls of an action are answered with AWS's own throttling error
 *   (Auto Scaling `Throttling`, HTTP 400; EC2 `RequestLimitExceeded`, HTTP 503);
 * - a terminating lifecycle hook that holds: TerminateInstanceInAutoScalingGroup is not passed on;
 *   the instance reads `Terminating:Wait` in every describe until CompleteLifecycleAction, which
 *   the fake answers itself (moto has no such call) and then passes the termination on to moto;
 * - a refused scale-out: SetDesiredCapacity is answered without being passed on, and
 *   DescribeScalingActivities shows a failed launch with the given status message.
 * - a hung call: the next N calls of an action get no answer at all (held until the fake stops),
 *   for the client's request timeout to end.
 * Everything else is passed to moto unchanged, so the SDK talks to one endpoint, as to AWS.
 * Every call is logged with its parameters for the tests to read.
 */
import { randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

const ASG_NS = 'http://autoscaling.amazonaws.com/doc/2011-01-01/'

/** One call the fake saw: the action and its form parameters. */
export interface FakeCall {
  readonly action: string
  readonly params: Readonly<Record<string, string>>
}

/** The fake's switches, changed by the tests while it runs. */
export interface AwsFake {
  /** http://127.0.0.1:PORT, the endpoint to give the SDK. */
  readonly url: string
  readonly calls: FakeCall[]
  /** The next `times` calls of `action` fail with AWS's throttling error. */
  throttle(action: string, times: number): void
  /** The next `times` calls of `action` are never answered (held until stop). */
  hang(action: string, times: number): void
  /** Terminations are held in Terminating:Wait until CompleteLifecycleAction (true), or passed on at once (false). */
  holdTerminations(on: boolean): void
  /** Scale-outs are refused with a failed scaling activity saying `statusMessage`; undefined passes them on again. */
  refuseLaunches(statusMessage: string | undefined): void
  /** Calls of `action` seen so far. */
  callsOf(action: string): FakeCall[]
  stop(): Promise<void>
}

/** Starts the fake on 127.0.0.1 at a free port, passing through to the moto server at `motoUrl`. */
export async function startAwsFake(motoUrl: string): Promise<AwsFake> {
  const calls: FakeCall[] = []
  const throttles = new Map<string, number>()
  const hangs = new Map<string, number>()
  const held: ServerResponse[] = []
  /** Held terminations: instance id → ShouldDecrementDesiredCapacity. */
  const heldTerminations = new Map<string, string>()
  let hold = false
  let refusal: string | undefined
  let refusedAt: Date | undefined

  const server: Server = createServer((req, res) => {
    void handle(req, res).catch((err: unknown) => {
      res.writeHead(500, { 'content-type': 'text/plain' })
      res.end(String(err))
    })
  })

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = []
    for await (const c of req) chunks.push(c as Buffer)
    const body = Buffer.concat(chunks)
    const params = Object.fromEntries(new URLSearchParams(body.toString('utf8')))
    const action = params.Action ?? ''
    calls.push({ action, params })
    const isEc2 = (params.Version ?? '').startsWith('2016-')

    const hangsLeft = hangs.get(action) ?? 0
    if (hangsLeft > 0) {
      hangs.set(action, hangsLeft - 1)
      held.push(res)
      return
    }

    const left = throttles.get(action) ?? 0
    if (left > 0) {
      throttles.set(action, left - 1)
      if (isEc2) { xml(res, 503, `<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message></Error></Errors><RequestID>${randomUUID()}</RequestID></Response>`); return; }
      xml(res, 400, `<ErrorResponse xmlns="${ASG_NS}"><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`); return;
    }

    if (action === 'TerminateInstanceInAutoScalingGroup' && hold) {
      const id = params.InstanceId ?? ''
      heldTerminations.set(id, params.ShouldDecrementDesiredCapacity ?? 'true')
      xml(res, 200, asgResponse(action, `<Activity><ActivityId>${randomUUID()}</ActivityId><AutoScalingGroupName>held</AutoScalingGroupName><Cause>user request</Cause><StartTime>${new Date().toISOString()}</StartTime><StatusCode>InProgress</StatusCode><Progress>0</Progress><Description>Terminating EC2 instance: ${id}</Description></Activity>`)); return;
    }
    if (action === 'CompleteLifecycleAction') {
      const id = params.InstanceId ?? ''
      const decrement = heldTerminations.get(id)
      if (decrement === undefined) {
        xml(res, 400, `<ErrorResponse xmlns="${ASG_NS}"><Error><Type>Sender</Type><Code>ValidationError</Code><Message>No active Lifecycle Action found with instance ID ${id}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`); return;
      }
      heldTerminations.delete(id)
      const pass = new URLSearchParams({ Action: 'TerminateInstanceInAutoScalingGroup', Version: '2011-01-01', InstanceId: id, ShouldDecrementDesiredCapacity: decrement })
      // moto routes a request to a service by its Authorization header's credential scope (it checks no signature): this call's is Auto Scaling's.
      const auth = req.headers.authorization ?? ''
      const r = await fetch(motoUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8', authorization: auth }, body: pass.toString(), signal: AbortSignal.timeout(10_000) })
      if (!r.ok) { xml(res, 500, await r.text()); return; }
      xml(res, 200, asgResponse(action, '')); return;
    }
    if (action === 'SetDesiredCapacity' && refusal !== undefined) {
      refusedAt = new Date()
      xml(res, 200, `<SetDesiredCapacityResponse xmlns="${ASG_NS}"><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></SetDesiredCapacityResponse>`); return;
    }
    if (action === 'DescribeScalingActivities' && refusal !== undefined && refusedAt !== undefined) {
      const member = `<member><ActivityId>${randomUUID()}</ActivityId><AutoScalingGroupName>${escapeXml(params.AutoScalingGroupName ?? '')}</AutoScalingGroupName><Cause>a user request set the desired capacity</Cause><StartTime>${refusedAt.toISOString()}</StartTime><EndTime>${refusedAt.toISOString()}</EndTime><StatusCode>Failed</StatusCode><StatusMessage>${escapeXml(refusal)}</StatusMessage><Progress>100</Progress><Description>Launching a new EC2 instance.  Status Reason: ${escapeXml(refusal)}. Launching EC2 instance failed.</Description></member>`
      xml(res, 200, asgResponse(action, `<Activities>${member}</Activities>`)); return;
    }

    // Pass through to moto, the reply patched for held instances.
    const headers: Record<string, string> = {}
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && k !== 'host' && k !== 'content-length') headers[k] = v
    const r = await fetch(new URL(req.url ?? '/', motoUrl), { method: req.method ?? 'POST', headers, ...(req.method === 'GET' ? {} : { body }), signal: AbortSignal.timeout(30_000) })
    let text = await r.text()
    if (heldTerminations.size > 0 && (action === 'DescribeAutoScalingGroups' || action === 'DescribeAutoScalingInstances')) {
      for (const id of heldTerminations.keys()) text = text.replace(new RegExp(`(<InstanceId>${id}</InstanceId>[\\s\\S]*?<LifecycleState>)[^<]*(</LifecycleState>)`), '$1Terminating:Wait$2')
    }
    res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'text/xml' })
    res.end(text)
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    url,
    calls,
    throttle(action, times) {
      throttles.set(action, times)
    },
    hang(action, times) {
      hangs.set(action, times)
    },
    holdTerminations(on) {
      hold = on
    },
    refuseLaunches(statusMessage) {
      refusal = statusMessage
      refusedAt = undefined
    },
    callsOf(action) {
      return calls.filter((c) => c.action === action)
    },
    stop: () =>
      new Promise<void>((resolve) => {
        for (const res of held.splice(0)) res.destroy()
        server.closeAllConnections()
        server.close(() => { resolve(); })
      }),
  }
}

/** An Auto Scaling query API answer `<ActionResponse><ActionResult>inner</ActionResult>…`. */
function asgResponse(action: string, inner: string): string {
  return `<${action}Response xmlns="${ASG_NS}"><${action}Result>${inner}</${action}Result><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></${action}Response>`
}

function xml(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/xml' })
  res.end(text)
}

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}
