import { join } from 'node:path';
import { modelConfigFromJson, parseModelConfigText } from '../../repository/model-config-schema';
import { withTritonDefaults } from './model-config-defaults';
import type { ModelConfigObject } from './model-config-types';
import { modelSpecFromConfig, type ModelSpec } from './model-spec';
import { readConfigText } from './repository-layout';

export interface ResolvedModelConfig {
  readonly config: ModelConfigObject;
  readonly spec: ModelSpec;
}

/**
 * Reads a model's configuration (the load request's JSON override, else config.pbtxt),
 * fills in Triton's defaults and checks it. Throws an Error whose message says what is
 * wrong, with the file and position for text-format errors.
 */
export async function resolveModelConfig(modelName: string, modelPath: string, configJson: string | undefined): Promise<ResolvedModelConfig> {
  let parsed: ModelConfigObject;
  if (configJson !== undefined) {
    let json: unknown;
    try {
      json = JSON.parse(configJson);
    } catch (error) {
      throw new Error(`load parameter 'config' is not valid JSON: ${(error as Error).message}`);
    }
    parsed = modelConfigFromJson(json) as ModelConfigObject;
  } else {
    const text = await readConfigText(modelPath);
    if (text === null) throw new Error(`${join(modelPath, 'config.pbtxt')} not found (local-triton needs a configuration for every model)`);
    try {
      parsed = parseModelConfigText(text) as ModelConfigObject;
    } catch (error) {
      throw new Error(`${join(modelPath, 'config.pbtxt')}: ${(error as Error).message}`);
    }
  }
  const config = withTritonDefaults(parsed, modelName);
  return { config, spec: modelSpecFromConfig(config, modelName) };
}
