import { UsageError } from './args.js'
export async function runAdmin (_argv: string[], _env: NodeJS.ProcessEnv): Promise<number> {
  throw new UsageError('dynakv admin is not built yet')
}
