import type { ServeSettings } from '../../src/main';
import type { LocalTritonOptions } from '../../src/local-triton/local-triton-server';
import { startLocalTritonFixture, type LocalTritonFixture } from './local-triton-fixture';
import { TempRepository } from './temp-repository';
import { startTriageFixture, type TriageFixture } from './triage-fixture';

/** triage in-process in front of one local-triton serving copies of sample models. */
export interface TriageOnLocalTriton {
  readonly triage: TriageFixture;
  readonly local: LocalTritonFixture;
  /** http://127.0.0.1:<triage's HTTP port> */
  readonly base: string;
  /** Stops triage, then local-triton, then removes the repository. */
  stop(): Promise<void>;
}

/** How local-triton runs, and whether triage's registry writes into the repository it serves (else a repository of its own). */
export interface LocalTritonChoices {
  readonly local?: Partial<Omit<LocalTritonOptions, 'modelRepository'>>;
  readonly sharedRepository?: boolean;
}

/** Starts both; whatever started is stopped again when a later step fails. */
export async function startTriageOnLocalTriton(samples: readonly string[], overrides: Partial<ServeSettings> = {}, choices: LocalTritonChoices = {}): Promise<TriageOnLocalTriton> {
  const repository = new TempRepository().copySample(...samples);
  let local: LocalTritonFixture | null = null;
  try {
    local = await startLocalTritonFixture({ ...choices.local, modelRepository: repository.path });
    const triage = await startTriageFixture([local.address], choices.sharedRepository === true ? { modelRepository: repository.path, ...overrides } : overrides);
    const instance = local;
    return {
      triage,
      local: instance,
      base: `http://127.0.0.1:${triage.triage.httpPort}`,
      async stop() {
        await triage.stop();
        await instance.stop();
        repository.remove();
      },
    };
  } catch (error) {
    await local?.stop();
    repository.remove();
    throw error;
  }
}
