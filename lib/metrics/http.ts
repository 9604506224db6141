// The metrics endpoint: GET /metrics in Prometheus text format. Nothing else
// is served; connections and request time are bounded.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Registry } from 'prom-client'

const CONNECTIONS_MAX = 64

export interface MetricsEndpoint {
  readonly port: number
  close (): Promise<void>
}

export async function serveMetrics (registry: Registry, host: string, port: number, onError: (msg: string) => void): Promise<MetricsEndpoint> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0]
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: metrics are at /metrics\n')
      return
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed\n')
      return
    }
    registry.metrics().then((text) => {
      res.writeHead(200, { 'content-type': registry.contentType })
      res.end(req.method === 'HEAD' ? undefined : text)
    }, (e: Error) => {
      onError(`metrics: ${e.message}`)
      res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics collection failed\n')
    })
  })
  server.maxConnections = CONNECTIONS_MAX
  server.requestTimeout = 10_000
  server.headersTimeout = 5_000
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  server.on('error', (e) => onError(`metrics listener: ${e.message}`))
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>(resolve => server.close(() => resolve()))
    }
  }
}
