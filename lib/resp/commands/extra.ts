// Cluster administration and inspection commands (RING, DEBUG) register here.
import type { CommandSpec } from './types.js'

export const extraCommands: CommandSpec[] = []
