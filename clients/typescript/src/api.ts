// Herald's messages, enums and service descriptors, generated from proto/herald/v1.
export * from "./gen/herald/v1/admin_pb.js";
export * from "./gen/herald/v1/common_pb.js";
export * from "./gen/herald/v1/credentials_pb.js";
export * from "./gen/herald/v1/customers_pb.js";
export * from "./gen/herald/v1/devices_pb.js";
export * from "./gen/herald/v1/events_pb.js";
export * from "./gen/herald/v1/notifications_pb.js";
export * from "./gen/herald/v1/topics_pb.js";
export * from "./gen/herald/v1/webhooks_pb.js";
export { HeraldClient, heraldInterceptors, type HeraldClientOptions, type WaitOptions } from "./client.js";
export { Code, HeraldError, type FieldViolation } from "./errors.js";
export { backoffMs, bearerAuth, retryOnUnavailable } from "./interceptors.js";
export { paginate, type PageItem } from "./paging.js";
export type { CallOptions } from "@connectrpc/connect";
