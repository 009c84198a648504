import { jsonObjectArgument } from './json-argument';
import { Metadata } from '@grpc/grpc-js';
import { Command, Option } from 'commander';
import { datatypeInfo, type Datatype } from '../protocol/datatypes';
import type { ModelInferResponse } from '../protocol/inference-messages';
import { nestedShape, tensorFromJson, tensorToJson, type JsonTensorValue } from '../protocol/json-tensor';
import { TritonClient } from '../triton/triton-client';

interface TensorMetadata {
  name: string;
  datatype: string;
}

interface InferCommandOptions {
  url: string;
  data: string;
  modelVersion: string;
  output: string[];
  id: string;
  timeoutMs: string;
  apiKey?: string;
}

/**
 * `triage infer`: one inference over Triton's gRPC protocol from JSON values, printed
 * as KServe-v2-style JSON. Datatypes come from the model's metadata; shapes from the
 * nesting of the arrays (include the batch dimension when the model batches).
 */
export function inferCommand(env: Readonly<Record<string, string | undefined>>): Command {
  return new Command('infer')
    .description('Run one inference against a Triton-compatible gRPC server (triage, Triton or local-triton) and print the outputs as JSON.')
    .argument('<model>', 'model name')
    .addOption(new Option('--url <host:port>', 'gRPC address of the server').default('localhost:8001'))
    .requiredOption('--data <json|@file>', 'inputs as JSON: {"INPUT_NAME": nested array, ...}; @path reads a file')
    .option('--model-version <version>', 'model version (default: the newest ready one)', '')
    .addOption(new Option('--output <name>', 'output to return (repeatable; default: all)').argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), value]).default([]))
    .option('--id <id>', 'request id, echoed in the response', '')
    .option('--api-key <key>', 'API key, sent as `authorization: Bearer <key>` [env TRIAGE_API_KEY]')
    .option('--timeout-ms <ms>', 'deadline of each call', '30000')
    .action(async (model: string, options: InferCommandOptions) => {
      const inputs = jsonObjectArgument(options.data, '--data', '{"INPUT_NAME": [[...]], ...}') as Record<string, JsonTensorValue>;
      const timeoutMs = Number(options.timeoutMs);
      const apiKey = options.apiKey ?? env['TRIAGE_API_KEY'] ?? '';
      const metadata = new Metadata();
      if (apiKey !== '') metadata.set('authorization', `Bearer ${apiKey}`);
      const client = new TritonClient(options.url, { maxMessageBytes: 256 * 1024 * 1024 });
      try {
        const modelMetadata = await client.unary<{ inputs: TensorMetadata[] }>('ModelMetadata', { name: model, version: options.modelVersion }, { timeoutMs, metadata });
        const datatypes = new Map(modelMetadata.inputs.map((input) => [input.name, input.datatype]));
        const tensors = Object.entries(inputs).map(([name, value]) => {
          const datatype = datatypes.get(name);
          if (datatype === undefined || datatypeInfo(datatype) === undefined) {
            throw new Error(`model '${model}' has no input '${name}' (its inputs: ${[...datatypes.keys()].join(', ')})`);
          }
          return tensorFromJson(name, datatype as Datatype, nestedShape(value), value);
        });
        const response = await client.unary<ModelInferResponse>('ModelInfer', {
          model_name: model,
          model_version: options.modelVersion,
          id: options.id,
          inputs: tensors.map((tensor) => ({ name: tensor.name, datatype: tensor.datatype, shape: tensor.shape })),
          outputs: options.output.map((name) => ({ name })),
          raw_input_contents: tensors.map((tensor) => tensor.data),
        }, { timeoutMs, metadata });
        process.stdout.write(`${readableJson(responseToJson(response))}\n`);
      } finally {
        client.close();
      }
    });
}


function responseToJson(response: ModelInferResponse): Record<string, unknown> {
  return {
    model_name: response.model_name,
    model_version: response.model_version,
    ...(response.id === '' ? {} : { id: response.id }),
    outputs: response.outputs.map((output, index) => {
      const tensor = {
        name: output.name,
        datatype: output.datatype as Datatype,
        shape: output.shape.map(Number),
        data: response.raw_output_contents[index] ?? Buffer.alloc(0),
      };
      return { name: tensor.name, datatype: tensor.datatype, shape: tensor.shape, data: tensorToJson(tensor) };
    }),
  };
}

/** Indented JSON whose innermost arrays (tensor rows) stay on one line. */
function readableJson(value: unknown, indent = ''): string {
  if (Array.isArray(value)) {
    if (value.every((item) => !Array.isArray(item) && (item === null || typeof item !== 'object'))) return JSON.stringify(value);
    return `[\n${value.map((item) => `${indent}  ${readableJson(item, `${indent}  `)}`).join(',\n')}\n${indent}]`;
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).map(([key, item]) => `${indent}  ${JSON.stringify(key)}: ${readableJson(item, `${indent}  `)}`);
    return `{\n${entries.join(',\n')}\n${indent}}`;
  }
  return JSON.stringify(value);
}
