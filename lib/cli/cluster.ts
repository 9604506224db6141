import { UsageError } from './args.js'
export async function runCluster (_argv: string[], _env: NodeJS.ProcessEnv): Promise<number> {
  throw new UsageError('dynakv cluster is not built yet')
}
