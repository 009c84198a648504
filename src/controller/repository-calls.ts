import type { ServiceError } from '@grpc/grpc-js';
import type { TritonClient } from '../triton/triton-client';
import type { LoadRequest } from './load-request';

/** RepositoryModelLoad: resolves once Triton reports the load done (the model READY). */
export async function repositoryLoad(client: TritonClient, request: LoadRequest, timeoutMs: number): Promise<void> {
  await client.unary('RepositoryModelLoad', request, { timeoutMs });
}

/** RepositoryModelUnload (Triton lets the calls in flight finish before it releases the model). */
export async function repositoryUnload(client: TritonClient, model: string, timeoutMs: number): Promise<void> {
  await client.unary('RepositoryModelUnload', { model_name: model, parameters: {} }, { timeoutMs });
}

/** Triton's own message of a failed call (the gRPC status details), else the error's message. */
export function tritonMessage(error: unknown): string {
  const details = (error as Partial<ServiceError>).details;
  return typeof details === 'string' && details !== '' ? details : (error as Error).message;
}
