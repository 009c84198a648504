import { join } from 'node:path';
import * as protobuf from 'protobufjs';
import { messageFromJson, messageToJson } from './message-json';
import { protoDirectory } from '../protocol/project-paths';
import { parseTextFormat } from './text-format-parser';
import { printTextFormat } from './text-format-printer';

/** proto/model_config.proto, found from the project root so it resolves from src/ and dist/src/ alike. */
export function modelConfigProtoPath(): string {
  return join(protoDirectory(), 'model_config.proto');
}

let cachedType: protobuf.Type | undefined;

/**
 * `inference.ModelConfig`, loaded once with .proto (snake_case) field names. The schema is
 * read-only after loading, so one cached copy serves every caller.
 */
export function modelConfigType(): protobuf.Type {
  if (cachedType === undefined) {
    const root = new protobuf.Root().loadSync(modelConfigProtoPath(), { keepCase: true });
    root.resolveAll();
    cachedType = root.lookupType('inference.ModelConfig');
  }
  return cachedType;
}

/** A config.pbtxt's text as a plain ModelConfig object; throws TextFormatError. */
export function parseModelConfigText(text: string): Record<string, unknown> {
  return parseTextFormat(modelConfigType(), text);
}

/** Canonical config.pbtxt text for a ModelConfig object. */
export function printModelConfigText(config: Readonly<Record<string, unknown>>): string {
  return printTextFormat(modelConfigType(), config);
}

/** A ModelConfig from Triton-style JSON (a RepositoryModelLoad `config` override); throws MessageJsonError. */
export function modelConfigFromJson(json: unknown): Record<string, unknown> {
  return messageFromJson(modelConfigType(), json);
}

/** ModelConfig JSON as Triton prints it: .proto field names, 64-bit integers as strings. */
export function modelConfigToJson(config: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return messageToJson(modelConfigType(), config);
}
