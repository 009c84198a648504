import type { ChannelOptions } from '@grpc/grpc-js';

export interface GrpcTransportOptions {
  /** Largest message received or sent, both ways. grpc-js receives only 4 MiB by default. */
  readonly maxMessageBytes: number;
}

/** The one place grpc-js server options are built. */
export function grpcServerOptions(options: GrpcTransportOptions): ChannelOptions {
  return {
    'grpc.max_receive_message_length': options.maxMessageBytes,
    'grpc.max_send_message_length': options.maxMessageBytes,
  };
}

export interface GrpcChannelOptions extends GrpcTransportOptions {
  /**
   * Retry a lost connection after 250 ms, backing off to at most 2 s (grpc-js defaults:
   * 1 s to 120 s), so an instance that comes back is reachable again within seconds.
   */
  readonly fastReconnect?: boolean;
}

/** The one place grpc-js channel (client) options are built. */
export function grpcChannelOptions(options: GrpcChannelOptions): ChannelOptions {
  return {
    'grpc.max_receive_message_length': options.maxMessageBytes,
    'grpc.max_send_message_length': options.maxMessageBytes,
    ...(options.fastReconnect === true ? {
      'grpc.initial_reconnect_backoff_ms': 250,
      'grpc.min_reconnect_backoff_ms': 250,
      'grpc.max_reconnect_backoff_ms': 2000,
    } : {}),
  };
}
