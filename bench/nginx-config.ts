import { join } from 'node:path';

export interface NginxGrpcConfig {
  /** Holds the pid file, the error log and the temp folders. */
  readonly directory: string;
  readonly port: number;
  readonly upstreamPort: number;
}

/**
 * nginx.conf of a loopback gRPC reverse proxy: one worker, an h2c listener, grpc_pass to
 * one upstream with kept-alive connections, buffers big enough for 1 MiB messages,
 * no access log, and no connection ever closed for having served too many requests.
 */
export function nginxGrpcConfig(config: NginxGrpcConfig): string {
  const path = (name: string): string => join(config.directory, name);
  return `worker_processes 1;
pid ${path('nginx.pid')};
error_log ${path('error.log')} warn;
events {
  worker_connections 4096;
}
http {
  access_log off;
  client_body_temp_path ${path('client_body')};
  proxy_temp_path ${path('proxy')};
  fastcgi_temp_path ${path('fastcgi')};
  uwsgi_temp_path ${path('uwsgi')};
  scgi_temp_path ${path('scgi')};
  upstream triton {
    server 127.0.0.1:${config.upstreamPort};
    keepalive 256;
    keepalive_requests 100000000;
    keepalive_timeout 300s;
  }
  server {
    listen 127.0.0.1:${config.port} http2;
    keepalive_requests 100000000;
    keepalive_timeout 300s;
    client_max_body_size 64m;
    client_body_buffer_size 2m;
    location / {
      grpc_pass grpc://triton;
      grpc_buffer_size 2m;
      grpc_read_timeout 300s;
      grpc_send_timeout 300s;
    }
  }
}
`;
}
