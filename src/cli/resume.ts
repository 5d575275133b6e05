/** `tide resume GROUP`: lifts `tide pause` in the running tide through its API (`POST /groups/{name}/resume`). */
import type { Command } from './args.ts'
import { pauseCommand } from './pause.ts'

/** The `resume` command. */
export const command: Command = pauseCommand('resume')
