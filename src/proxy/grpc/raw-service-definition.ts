import type { ServiceDefinition } from '@grpc/grpc-js';

const identity = (value: Buffer): Buffer => value;

/**
 * A copy of a service definition in which the named methods carry raw bytes: their
 * requests are not decoded and their responses not encoded, so the proxy forwards the
 * client's exact message. Other methods keep the proto codecs.
 */
export function withRawMethods(definition: ServiceDefinition, rawMethods: readonly string[]): ServiceDefinition {
  const copy: Record<string, unknown> = {};
  for (const [name, method] of Object.entries(definition)) {
    copy[name] = rawMethods.includes(name)
      ? { ...method, requestDeserialize: identity, requestSerialize: identity, responseSerialize: identity, responseDeserialize: identity }
      : method;
  }
  return copy as ServiceDefinition;
}
