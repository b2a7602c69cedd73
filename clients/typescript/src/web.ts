// The browser entry: gRPC-Web over fetch, with no Node module, for bundlers.
import { createGrpcWebTransport } from "@connectrpc/connect-web";
import { HeraldClient, heraldInterceptors, type HeraldClientOptions } from "./client.js";

export * from "./api.js";

/** A Herald client for browsers (gRPC-Web): `createHeraldClient({ baseUrl, apiKey })`. */
export function createHeraldClient(options: HeraldClientOptions): HeraldClient {
  const transport = createGrpcWebTransport({
    baseUrl: options.baseUrl,
    interceptors: heraldInterceptors(options),
  });
  return new HeraldClient(transport, options);
}
