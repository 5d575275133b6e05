/**
 * Serves the API app over HTTP (@hono/node-server) on api.host:api.listen (default
 * 127.0.0.1:7070). A port that cannot be taken is an ApiError TIDE_ERR_API_LISTEN naming the
 * address and the system's reason; port 0 takes any free port (tests), and `url` says which.
 */
import { createAdaptorServer } from '@hono/node-server'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { ApiError } from '../app/errors.ts'
import type { ApiApp } from './app.ts'

/** A listening API. */
export interface ApiServer {
  /** `http://host:port`, with the port actually bound. */
  readonly url: string
  readonly port: number
  /** Stops listening, ends idle keep-alive connections and waits for requests in flight; stops the app's event subscription. */
  close(): Promise<void>
}

/** Listens on `host:port` with `api`; rejects with ApiError TIDE_ERR_API_LISTEN when it cannot. */
export async function startApiServer(api: ApiApp, opts: { readonly host: string; readonly port: number }): Promise<ApiServer> {
  const server = createAdaptorServer({ fetch: api.app.fetch }) as Server
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      server.off('listening', onListening)
      reject(new ApiError('TIDE_ERR_API_LISTEN', `the API cannot listen on ${opts.host}:${opts.port}: ${err.code ?? err.message}${err.code === 'EADDRINUSE' ? ' (the port is in use: another tide up? choose one with --api-listen PORT or api.listen, or run with --no-api)' : ''}`, { cause: err }))
    }
    const onListening = (): void => {
      server.off('error', onError)
      resolve()
    }
    server.once('error', onError)
    server.once('listening', onListening)
    server.listen(opts.port, opts.host)
  })
  const port = (server.address() as AddressInfo).port
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host
  return {
    url: `http://${host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        api.close()
        server.close(() => {
          resolve()
        })
        server.closeIdleConnections()
      }),
  }
}
