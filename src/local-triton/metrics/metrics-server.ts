import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ModelManager } from '../models/model-manager';
import { renderTritonMetrics } from './triton-metrics';

/** Serves GET /metrics (Prometheus text, version 0.0.4) on its own port, as Triton does on 8002. */
export class MetricsServer {
  private readonly server: Server;

  constructor(models: ModelManager) {
    this.server = createServer((request, response) => {
      const path = (request.url ?? '/').split('?')[0];
      if (request.method !== 'GET' || path !== '/metrics') {
        response.writeHead(404, { 'content-type': 'text/plain' }).end('not found: local-triton serves GET /metrics\n');
        return;
      }
      response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
      response.end(renderTritonMetrics(models.loadedVersions()));
    });
  }

  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve((this.server.address() as AddressInfo).port);
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}
