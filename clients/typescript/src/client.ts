import type { DescService, MessageInitShape } from "@bufbuild/protobuf";
import {
  createClient,
  type CallOptions,
  type Client,
  type Interceptor,
  type Transport,
} from "@connectrpc/connect";
import { HeraldError } from "./errors.js";
import { bearerAuth, retryOnUnavailable } from "./interceptors.js";
import { paginate } from "./paging.js";
import {
  Admin,
  type ApiKey,
  type ListApiKeysRequestSchema,
  type ListTenantsRequestSchema,
  type Tenant,
} from "./gen/herald/v1/admin_pb.js";
import {
  Credentials,
  type CredentialInfo,
  type ListCredentialsRequestSchema,
} from "./gen/herald/v1/credentials_pb.js";
import { Customers, type Customer, type ListCustomersRequestSchema } from "./gen/herald/v1/customers_pb.js";
import { Devices, type Device, type ListDevicesRequestSchema } from "./gen/herald/v1/devices_pb.js";
import {
  Events,
  type EventRecord,
  type ListEventsRequestSchema,
  type ListMobileSessionsRequestSchema,
  type ListTriggersRequestSchema,
  type MobileSession,
  type Trigger,
} from "./gen/herald/v1/events_pb.js";
import {
  Notifications,
  WaitFor,
  type DeliveryUpdate,
  type GetMessageResponse,
  type ListMessagesRequestSchema,
  type ListScheduledMessagesRequestSchema,
  type Message,
  type SendAndWaitResponse,
  type SendRequestSchema,
  type SendResponse,
} from "./gen/herald/v1/notifications_pb.js";
import {
  Topics,
  type ListSegmentsRequestSchema,
  type ListTopicsRequestSchema,
  type Segment,
  type Topic,
} from "./gen/herald/v1/topics_pb.js";
import {
  Webhooks,
  type ListWebhookAttemptsRequestSchema,
  type ListWebhooksRequestSchema,
  type Webhook,
  type WebhookAttempt,
} from "./gen/herald/v1/webhooks_pb.js";

/** What every Herald client takes, in Node and in browsers. */
export interface HeraldClientOptions {
  /** Herald's API address, e.g. `http://127.0.0.1:50051`. */
  baseUrl: string;
  /** A tenant's API key (`hrld_…`), or the operator's admin key for the Admin service. */
  apiKey: string;
  /** How many times a call that failed with UNAVAILABLE is tried again (default 3; 0: never). */
  retries?: number;
  /**
   * The deadline of each call that answers once, in milliseconds (default 30,000; 0: none).
   * Streams (`watchMessage`) run until they end unless a call sets its own `timeoutMs`.
   */
  timeoutMs?: number;
}

const DEFAULT_RETRIES = 3;
const DEFAULT_TIMEOUT_MS = 30_000;

/** The interceptors every transport of a Herald client carries: retries, then the API key. */
export function heraldInterceptors(options: HeraldClientOptions): Interceptor[] {
  if (options.apiKey === "") {
    throw new TypeError("apiKey is required: a tenant's API key (hrld_…) or the admin key");
  }
  return [retryOnUnavailable(options.retries ?? DEFAULT_RETRIES), bearerAuth(options.apiKey)];
}

/** How `sendAndWait` waits. */
export interface WaitOptions {
  /** The stage to wait for (default `WaitFor.SUBMIT`, a provider accepted the push). */
  waitFor?: WaitFor;
  /** How long to wait, 1 to 86,400 seconds (default 30). */
  timeoutSeconds?: number;
}

/**
 * Herald's eight services (`client.notifications.send(…)`, every method as in the .proto, in
 * camelCase) and the conveniences most applications need. Every call throws `HeraldError`.
 */
export class HeraldClient {
  readonly admin: Client<typeof Admin>;
  readonly devices: Client<typeof Devices>;
  readonly notifications: Client<typeof Notifications>;
  readonly credentials: Client<typeof Credentials>;
  readonly topics: Client<typeof Topics>;
  readonly customers: Client<typeof Customers>;
  readonly webhooks: Client<typeof Webhooks>;
  readonly events: Client<typeof Events>;

  /**
   * A client over any Connect transport that speaks gRPC or gRPC-Web to Herald; give the
   * transport `heraldInterceptors(options)`. `createHeraldClient` does both.
   */
  constructor(transport: Transport, options: Pick<HeraldClientOptions, "timeoutMs"> = {}) {
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.admin = heraldService(Admin, transport, timeoutMs);
    this.devices = heraldService(Devices, transport, timeoutMs);
    this.notifications = heraldService(Notifications, transport, timeoutMs);
    this.credentials = heraldService(Credentials, transport, timeoutMs);
    this.topics = heraldService(Topics, transport, timeoutMs);
    this.customers = heraldService(Customers, transport, timeoutMs);
    this.webhooks = heraldService(Webhooks, transport, timeoutMs);
    this.events = heraldService(Events, transport, timeoutMs);
  }

  /**
   * Accepts a notification for delivery; answers its message id. Without an `idempotencyKey`
   * one is generated, so a retry after UNAVAILABLE never delivers twice (`""` for none).
   */
  send(request: MessageInitShape<typeof SendRequestSchema>, options?: CallOptions): Promise<SendResponse> {
    return this.notifications.send(withIdempotencyKey(request), options);
  }

  /**
   * Sends, then waits until a delivery reaches `wait.waitFor` (default: submitted to its
   * provider), none can, or `wait.timeoutSeconds` (default 30) pass; answers the outcome
   * (`WaitOutcome.ONSUBMIT`, …) with the deliveries. The call's deadline is the wait plus 10 s
   * unless `options.timeoutMs` says otherwise.
   */
  sendAndWait(
    request: MessageInitShape<typeof SendRequestSchema>,
    wait: WaitOptions = {},
    options?: CallOptions,
  ): Promise<SendAndWaitResponse> {
    const timeoutSeconds = wait.timeoutSeconds ?? 30;
    return this.notifications.sendAndWait(
      {
        request: withIdempotencyKey(request),
        waitFor: wait.waitFor ?? WaitFor.SUBMIT,
        until: { case: "timeoutSeconds", value: timeoutSeconds },
      },
      { timeoutMs: (timeoutSeconds + 10) * 1000, ...options },
    );
  }

  /** The message as accepted, and each of its deliveries as it stands. */
  getMessage(messageId: string, options?: CallOptions): Promise<GetMessageResponse> {
    return this.notifications.getMessage({ messageId }, options);
  }

  /**
   * Each delivery of a message as it stands, then each change, until every delivery is final
   * (read, failed or expired). Leaving the loop early ends the call.
   */
  watchMessage(messageId: string, options?: CallOptions): AsyncIterable<DeliveryUpdate> {
    return this.notifications.watchMessage({ messageId }, options);
  }

  listAllTenants(
    request: MessageInitShape<typeof ListTenantsRequestSchema> = {},
    options?: CallOptions,
  ): AsyncGenerator<Tenant> {
    return paginate(this.admin.listTenants, request, options);
  }

  listAllApiKeys(
    request: MessageInitShape<typeof ListApiKeysRequestSchema> = {},
    options?: CallOptions,
  ): AsyncGenerator<ApiKey> {
    return paginate(this.admin.listApiKeys, request, options);
  }

  listAllCredentials(
    request: MessageInitShape<typeof ListCredentialsRequestSchema> = {},
    options?: CallOptions,
  ): AsyncGenerator<CredentialInfo> {
    return paginate(this.credentials.listCredentials, request, options);
  }

  listAllCustomers(
    request: MessageInitShape<typeof ListCustomersRequestSchema> = {},
    options?: CallOptions,
  ): AsyncGenerator<Customer> {
    return paginate(this.customers.listCustomers, request, options);
  }

  listAllDevices(
    request: MessageInitShape<typeof ListDevicesRequestSchema> = {},
    options?: CallOptions,
  ): AsyncGenerator<Device> {
    return paginate(this.devices.listDevices, request, options);
  }

  listAllEvents(
    request: MessageInitShape<typeof ListEventsRequestSchema> = {},
    options?: CallOptions,
  ): AsyncGenerator<EventRecord> {
    return paginate(this.events.listEvents, request, options);
  }

  listAllTriggers(
    request: MessageInitShape<typeof ListTriggersRequestSchema> = {},
    options?: CallOptions,
  ): AsyncGenerator<Trigger> {
    return paginate(this.events.listTriggers, request, options);
  }

  listAllMobileSessions(
    request: MessageInitShape<typeof ListMobileSessionsRequestSchema> = {},
    options?: CallOptions,
  ): AsyncGenerator<MobileSession> {
    return paginate(this.events.listMobileSessions, request, options);
  }

  listAllMessages(
    request: MessageInitShape<typeof ListMessagesRequestSchema> = {},
    options?: CallOptions,
  ): AsyncGenerator<Message> {
    return paginate(this.notifications.listMessages, request, options);
  }

  listAllScheduledMessages(
    request: MessageInitShape<typeof ListScheduledMessagesRequestSchema> = {},
    options?: CallOptions,
  ): AsyncGenerator<Message> {
    return paginate(this.notifications.listScheduledMessages, request, options);
  }

  listAllTopics(
    request: MessageInitShape<typeof ListTopicsRequestSchema> = {},
    options?: CallOptions,
  ): AsyncGenerator<Topic> {
    return paginate(this.topics.listTopics, request, options);
  }

  listAllSegments(
    request: MessageInitShape<typeof ListSegmentsRequestSchema> = {},
    options?: CallOptions,
  ): AsyncGenerator<Segment> {
    return paginate(this.topics.listSegments, request, options);
  }

  listAllWebhooks(
    request: MessageInitShape<typeof ListWebhooksRequestSchema> = {},
    options?: CallOptions,
  ): AsyncGenerator<Webhook> {
    return paginate(this.webhooks.listWebhooks, request, options);
  }

  listAllWebhookAttempts(
    request: MessageInitShape<typeof ListWebhookAttemptsRequestSchema> = {},
    options?: CallOptions,
  ): AsyncGenerator<WebhookAttempt> {
    return paginate(this.webhooks.listWebhookAttempts, request, options);
  }
}

type AnyCall = (input: unknown, options?: CallOptions) => unknown;

/**
 * A service's Connect client whose calls throw HeraldError, take `timeoutMs` as their default
 * deadline when they answer once, and end a stream the caller stopped reading.
 */
function heraldService<S extends DescService>(
  service: S,
  transport: Transport,
  timeoutMs: number,
): Client<S> {
  const client = createClient(service, transport) as unknown as Record<string, AnyCall>;
  const wrapped: Record<string, AnyCall> = {};
  for (const method of service.methods) {
    const call = client[method.localName]!;
    switch (method.methodKind) {
      case "unary":
      case "client_streaming":
        wrapped[method.localName] = async (input, options) => {
          try {
            return await call(input, { timeoutMs, ...options });
          } catch (e) {
            throw HeraldError.from(e);
          }
        };
        break;
      case "server_streaming":
      case "bidi_streaming":
        wrapped[method.localName] = (input, options) => stream(call, input, options);
        break;
    }
  }
  return wrapped as unknown as Client<S>;
}

async function* stream(call: AnyCall, input: unknown, options: CallOptions = {}): AsyncGenerator<unknown> {
  const stop = new AbortController();
  const outer = options.signal;
  const onAbort = () => stop.abort(outer?.reason);
  if (outer?.aborted) {
    onAbort();
  }
  outer?.addEventListener("abort", onAbort, { once: true });
  try {
    yield* call(input, { ...options, signal: stop.signal }) as AsyncIterable<unknown>;
  } catch (e) {
    throw HeraldError.from(e);
  } finally {
    outer?.removeEventListener("abort", onAbort);
    stop.abort();
  }
}

/**
 * `request` with an idempotency key: its own, or a new random one (128 bits, hex), so that a
 * retried call is the same send. An explicit `""` asks for none.
 */
function withIdempotencyKey(
  request: MessageInitShape<typeof SendRequestSchema>,
): MessageInitShape<typeof SendRequestSchema> {
  if (request.idempotencyKey !== undefined) {
    return request;
  }
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(16));
  const key = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return { ...request, idempotencyKey: key };
}
