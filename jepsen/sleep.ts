/** Resolves after ms (at once for ms <= 0). */
export function sleep (ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, Math.max(0, ms)))
}
