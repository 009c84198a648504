import { startLocalTriton, type LocalTritonOptions, type RunningLocalTriton } from '../../src/local-triton/local-triton-server';
import { silentLogger } from '../../src/observability/logger';
import { TritonTestClient } from './grpc-test-client';

export interface LocalTritonFixture {
  readonly server: RunningLocalTriton;
  readonly client: TritonTestClient;
  readonly address: string;
  stop(): Promise<void>;
}

/** Starts local-triton on free ports with a silent logger, plus a client connected to it. */
export async function startLocalTritonFixture(options: Partial<LocalTritonOptions> & Pick<LocalTritonOptions, 'modelRepository'>): Promise<LocalTritonFixture> {
  const server = await startLocalTriton({
    grpcAddress: '127.0.0.1',
    grpcPort: 0,
    metricsPort: 0,
    modelControlMode: 'none',
    loadModels: [],
    strictReadiness: true,
    maxMessageBytes: 256 * 1024 * 1024,
    logger: silentLogger(),
    ...options,
  });
  const address = `127.0.0.1:${server.grpcPort}`;
  const client = new TritonTestClient(address);
  return {
    server,
    client,
    address,
    async stop() {
      client.close();
      await server.stop();
    },
  };
}
