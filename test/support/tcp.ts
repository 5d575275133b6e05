/** Whether something listens: for tests that check a router stopped (its port closed). */
import { connect } from 'node:net'

/** Whether something accepts a new TCP connection on 127.0.0.1:port (bounded: 2 s, then false). */
export function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port })
    const done = (ok: boolean): void => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(2000, () => {
      done(false)
    })
    socket.once('connect', () => {
      done(true)
    })
    socket.once('error', () => {
      done(false)
    })
  })
}
