/** `tide unprotect GROUP INSTANCE`: lifts `tide protect` through the running tide's API (`POST …/instances/{id}/unprotect`). */
import type { Command } from './args.ts'
import { protectCommand } from './protect.ts'

/** The `unprotect` command. */
export const command: Command = protectCommand('unprotect')
