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

/** The one place grpc-js channel (client) options are built. */
export function grpcChannelOptions(options: GrpcTransportOptions): ChannelOptions {
  return {
    'grpc.max_receive_message_length': options.maxMessageBytes,
    'grpc.max_send_message_length': options.maxMessageBytes,
  };
}
