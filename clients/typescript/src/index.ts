// The Node entry: gRPC over HTTP/2 (h2c or TLS), or gRPC-Web over HTTP/1.1.
import { createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { HeraldClient, heraldInterceptors, type HeraldClientOptions } from "./client.js";

export * from "./api.js";

export interface NodeHeraldClientOptions extends HeraldClientOptions {
  /** `"grpc"` (default): gRPC over HTTP/2; `"grpc-web"`: gRPC-Web over HTTP/1.1. */
  transport?: "grpc" | "grpc-web";
}

/** A Herald client for Node: `createHeraldClient({ baseUrl, apiKey })`. */
export function createHeraldClient(options: NodeHeraldClientOptions): HeraldClient {
  const interceptors = heraldInterceptors(options);
  const transport =
    options.transport === "grpc-web"
      ? createGrpcWebTransport({ baseUrl: options.baseUrl, httpVersion: "1.1", interceptors })
      : createGrpcTransport({ baseUrl: options.baseUrl, interceptors });
  return new HeraldClient(transport, options);
}
