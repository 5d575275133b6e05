/**
 * What a `tide up` test against the fake Kubernetes API server sets up: the fake with a
 * Deployment `default/web` (1 replica, 1 cpu / 512 Mi pods), a queue endpoint that answers
 * `{"depth": n}` for an http-json external metric, a temporary directory with a kubeconfig for
 * the fake, and the config of a `web` group that scales the Deployment on that depth at 10 per
 * pod. test/cli/leader.test.ts and test/runtime/backends/kubernetes.test.ts use it.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { FakeKubeApiServer, type FakeKubeOptions } from './fake-kube-apiserver.ts'

/** The Deployment the fixture creates. */
export const WEB_DEPLOYMENT = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web' },
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: 'web' } },
    template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'shop:1', ports: [{ containerPort: 8080 }], resources: { requests: { cpu: '1', memory: '512Mi' } } }] } },
  },
}

export class KubeQueueFixture {
  readonly fake: FakeKubeApiServer
  /** What the queue endpoint answers as its depth; tests change it. */
  depth: number
  #queue: Server | undefined
  #dir = ''
  readonly #prefix: string

  constructor(options: { readonly fake: FakeKubeOptions; readonly depth: number; readonly dirPrefix: string }) {
    this.fake = new FakeKubeApiServer(options.fake)
    this.depth = options.depth
    this.#prefix = options.dirPrefix
  }

  /** The temporary directory (kubeconfig, configs, stores); '' before start. */
  get dir(): string {
    return this.#dir
  }

  /** KUBECONFIG for a tide child process. */
  get kubeconfigPath(): string {
    return join(this.#dir, 'kubeconfig')
  }

  async start(): Promise<void> {
    await this.fake.start()
    this.fake.create('deployments', 'default', WEB_DEPLOYMENT)
    const queue = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ depth: this.depth }))
    })
    this.#queue = queue
    await new Promise<void>((resolve) => queue.listen(0, '127.0.0.1', resolve))
    this.#dir = mkdtempSync(join(tmpdir(), this.#prefix))
    writeFileSync(this.kubeconfigPath, this.fake.kubeconfig())
  }

  async stop(): Promise<void> {
    await this.fake.stop()
    const queue = this.#queue
    if (queue !== undefined) await new Promise((resolve) => queue.close(resolve))
    if (this.#dir !== '') rmSync(this.#dir, { recursive: true, force: true })
  }

  /** The Deployment's replicas now. */
  replicas(): number {
    return (this.fake.get('deployments', 'default', 'web')?.spec as { replicas: number }).replicas
  }

  /**
   * Writes `<name>.yaml` in the directory: a store `<name>.db` and the `web` group on the
   * Deployment, 1–5 pods, 1 s sync and start-up, scaled on the queue's depth at 10 per pod;
   * `extra` lines are added to the group. Returns its path.
   */
  writeConfig(name: string, extra: readonly string[] = []): string {
    const file = join(this.#dir, `${name}.yaml`)
    const port = String((this.#queue?.address() as AddressInfo).port)
    writeFileSync(
      file,
      [
        `store: { path: ${JSON.stringify(join(this.#dir, `${name}.db`))} }`,
        '---',
        'group: web',
        'provider: kubernetes',
        'kubernetes: { namespace: default, deployment: web }',
        'size: { cpu: 1, memoryMiB: 512 }',
        'replicas: { min: 1, max: 5 }',
        'syncPeriodSeconds: 1',
        'startupSeconds: 1',
        'warmupSeconds: 0',
        ...extra,
        'metrics:',
        `  - { type: external, query: $.depth, source: { type: http-json, url: "http://127.0.0.1:${port}/queue" }, target: { averageValue: 10 } }`,
      ].join('\n'),
    )
    return file
  }
}
