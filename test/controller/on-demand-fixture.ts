import type { ServeSettings } from '../../src/main';
import type { LoadOverrides } from '../../src/local-triton/models/load-overrides';
import { startLocalTritonFixture, type LocalTritonFixture } from '../support/local-triton-fixture';
import { TempRepository } from '../support/temp-repository';
import { TEST_ADMIN_KEY } from '../support/test-redis';
import { controllerOf, startTriageFixture, type TriageFixture } from '../support/triage-fixture';
import { AdminHttp, readyVersions, simpleModelFiles, simpleOnnx, waitUntil } from './controller-fixture';

/**
 * Two local-triton instances (explicit mode, one shared repository) whose memory budget
 * fits one `simple`-shaped model each (its footprint is the size of its model.onnx),
 * behind one triage; every RepositoryModelLoad and Unload the instances receive is
 * counted (the real calls run unchanged).
 */
export class OnDemandCluster {
  readonly loads: string[] = [];
  readonly unloads: string[] = [];
  private constructor(
    readonly triage: TriageFixture,
    readonly instances: readonly LocalTritonFixture[],
    readonly admin: AdminHttp,
    private readonly repository: TempRepository,
  ) {}

  static async start(overrides: Partial<ServeSettings>): Promise<OnDemandCluster> {
    const repository = new TempRepository();
    const instances: LocalTritonFixture[] = [];
    try {
      for (let i = 0; i < 2; i += 1) {
        instances.push(await startLocalTritonFixture({ modelRepository: repository.path, modelControlMode: 'explicit', strictReadiness: false, metricsPort: -1 }));
      }
      const footprint = simpleOnnx().length;
      const triage = await startTriageFixture(instances.map((instance) => instance.address), {
        modelRepository: repository.path,
        controllerLeaseTtlMs: 1000,
        controllerTickMs: 200,
        // Room for one model per instance, not two.
        instanceMemory: new Map([['*', Math.floor(footprint * 1.5)]]),
        ...overrides,
      });
      const cluster = new OnDemandCluster(triage, instances, new AdminHttp(`http://127.0.0.1:${triage.triage.httpPort}`), repository);
      cluster.countRepositoryCalls();
      await waitUntil(() => controllerOf(triage.triage).isLeader(), 3000, 'the only controller leads');
      return cluster;
    } catch (error) {
      for (const instance of instances) await instance.stop();
      repository.remove();
      throw error;
    }
  }

  /** Registers and deploys (replicas 1) each model in turn; each but the last is READY before the next is deployed. */
  async deployInOrder(names: readonly string[]): Promise<void> {
    for (const [index, name] of names.entries()) {
      await this.admin.register(simpleModelFiles(name));
      await this.admin.expect(202, 'POST', `/v1/models/${name}/deploy`, { replicas: 1 });
      if (index < names.length - 1) await waitUntil(async () => (await this.holders(name)).length === 1, 10_000, `${name} READY`);
    }
    const last = names[names.length - 1] as string;
    await waitUntil(() => controllerOf(this.triage.triage).status().unplaced.some((each) => each.name === last), 5000, `${last} reported unplaced`);
  }

  /** Indexes of the instances reporting the model READY. */
  async holders(model: string): Promise<number[]> {
    const versions = await readyVersions(this.instances.map((instance) => instance.client), model);
    return versions.map((each, index) => (each === '' ? -1 : index)).filter((index) => index >= 0);
  }

  /** KServe v2 REST inference of a `simple`-shaped model; resolves with the status and the parsed body. */
  async restInfer(model: string): Promise<{ status: number; body: Record<string, any> }> {
    const response = await fetch(`http://127.0.0.1:${this.triage.triage.httpPort}/v2/models/${model}/infer`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_ADMIN_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ inputs: [
        { name: 'INPUT0', shape: [1, 16], datatype: 'INT32', data: Array.from({ length: 16 }, (_, i) => i) },
        { name: 'INPUT1', shape: [1, 16], datatype: 'INT32', data: Array.from({ length: 16 }, () => 1) },
      ] }),
    });
    return { status: response.status, body: await response.json() as Record<string, any> };
  }

  async stop(): Promise<void> {
    await this.triage.stop();
    for (const instance of this.instances) await instance.stop();
    this.repository.remove();
  }

  private countRepositoryCalls(): void {
    for (const instance of this.instances) {
      const models = instance.server.models;
      const load = models.load.bind(models);
      const unload = models.unload.bind(models);
      models.load = (name: string, overrides: LoadOverrides): Promise<void> => {
        this.loads.push(name);
        return load(name, overrides);
      };
      models.unload = (name: string): Promise<void> => {
        this.unloads.push(name);
        return unload(name);
      };
    }
  }
}

/** The sum the `simple` model answers for the inputs restInfer sends. */
export const REST_SUM = Array.from({ length: 16 }, (_, i) => i + 1);
