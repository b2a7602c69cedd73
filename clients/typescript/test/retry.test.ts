// Retries on UNAVAILABLE, against a tiny in-process gRPC server (connect-node over h2c) whose
// Notifications service fails as each test asks.
import assert from "node:assert/strict";
import { createServer, type Http2Server, type ServerHttp2Session } from "node:http2";
import { after, before, beforeEach, test } from "node:test";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import {
  backoffMs,
  createHeraldClient,
  DeliverySchema,
  DeliveryStatus,
  DeliveryUpdateSchema,
  GetMessageResponseSchema,
  HeraldError,
  MessageSchema,
  Notifications,
  SendResponseSchema,
} from "../src/index.js";

/** What the next calls do: fail with a code, or answer. */
let script: (Code | "answer")[] = [];
let calls = 0;
const keys: (string | null)[] = [];

function nextStep(authorization: string | null): void {
  calls++;
  keys.push(authorization);
  const step = script.shift() ?? "answer";
  if (step !== "answer") {
    throw new ConnectError(`scripted failure ${calls}`, step);
  }
}

/** The idempotency keys the sends came with. */
const sendKeys: string[] = [];

const notifications: Partial<ServiceImpl<typeof Notifications>> = {
  send(request, context) {
    sendKeys.push(request.idempotencyKey);
    nextStep(context.requestHeader.get("authorization"));
    return create(SendResponseSchema, { messageId: "msg_sent" });
  },
  getMessage(request, context) {
    nextStep(context.requestHeader.get("authorization"));
    return create(GetMessageResponseSchema, {
      message: create(MessageSchema, { messageId: request.messageId }),
    });
  },
  async *watchMessage(request, context) {
    nextStep(context.requestHeader.get("authorization"));
    for (const status of [DeliveryStatus.SUBMITTED, DeliveryStatus.READ]) {
      yield create(DeliveryUpdateSchema, {
        messageId: request.messageId,
        delivery: create(DeliverySchema, { deliveryId: "dlv_1", status }),
      });
      const step = script.shift() ?? "answer";
      if (step !== "answer") {
        throw new ConnectError("the stream broke", step);
      }
    }
  },
};

let server: Http2Server;
const sessions = new Set<ServerHttp2Session>();
let baseUrl: string;

before(async () => {
  server = createServer(
    connectNodeAdapter({ routes: (router) => router.service(Notifications, notifications) }),
  );
  server.on("session", (session) => sessions.add(session));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  assert.ok(address !== null && typeof address === "object");
  baseUrl = `http://127.0.0.1:${address.port}`;
});

after(async () => {
  // The clients keep their connections open, idle; close() waits for them.
  for (const session of sessions) {
    session.destroy();
  }
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  script = [];
  calls = 0;
  keys.length = 0;
  sendKeys.length = 0;
});

function client(retries?: number) {
  return createHeraldClient({ baseUrl, apiKey: "hrld_test", ...(retries === undefined ? {} : { retries }) });
}

async function refusal(call: Promise<unknown>): Promise<HeraldError> {
  try {
    await call;
  } catch (e) {
    assert.ok(e instanceof HeraldError, `not a HeraldError: ${e}`);
    return e;
  }
  assert.fail("the call was accepted");
}

test("a call that fails twice with UNAVAILABLE is tried again and answers, with the key each time", async () => {
  script = [Code.Unavailable, Code.Unavailable];
  const got = await client().getMessage("msg_1");
  assert.equal(got.message?.messageId, "msg_1");
  assert.equal(calls, 3);
  assert.deepEqual(keys, ["Bearer hrld_test", "Bearer hrld_test", "Bearer hrld_test"]);
});

test("retries are bounded: the last UNAVAILABLE is thrown as a HeraldError", async () => {
  script = [Code.Unavailable, Code.Unavailable, Code.Unavailable, Code.Unavailable];
  const error = await refusal(client(2).getMessage("msg_1"));
  assert.equal(error.code, Code.Unavailable);
  assert.equal(error.rawMessage, "scripted failure 3");
  assert.equal(calls, 3);
});

test("only UNAVAILABLE is retried", async () => {
  script = [Code.Internal];
  const error = await refusal(client().getMessage("msg_1"));
  assert.equal(error.code, Code.Internal);
  assert.equal(calls, 1);
});

test("retries: 0 tries once", async () => {
  script = [Code.Unavailable];
  const error = await refusal(client(0).getMessage("msg_1"));
  assert.equal(error.code, Code.Unavailable);
  assert.equal(calls, 1);
});

test("a stream that fails with UNAVAILABLE before it starts is tried again", async () => {
  script = [Code.Unavailable, Code.Unavailable];
  const statuses: DeliveryStatus[] = [];
  for await (const update of client().watchMessage("msg_1")) {
    statuses.push(update.delivery!.status);
  }
  assert.deepEqual(statuses, [DeliveryStatus.SUBMITTED, DeliveryStatus.READ]);
  assert.equal(calls, 3);
});

test("a stream that started is not tried again when it breaks", async () => {
  script = ["answer", Code.Unavailable];
  const statuses: DeliveryStatus[] = [];
  const error = await refusal(
    (async () => {
      for await (const update of client().watchMessage("msg_1")) {
        statuses.push(update.delivery!.status);
      }
    })(),
  );
  assert.equal(error.code, Code.Unavailable);
  assert.deepEqual(statuses, [DeliveryStatus.SUBMITTED]);
  assert.equal(calls, 1);
});

test("a server that is not there is UNAVAILABLE after the retries", async () => {
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
  const address = closed.address();
  assert.ok(address !== null && typeof address === "object");
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  const nowhere = createHeraldClient({
    baseUrl: `http://127.0.0.1:${address.port}`,
    apiKey: "hrld_test",
    retries: 2,
  });
  const started = Date.now();
  const error = await refusal(nowhere.getMessage("msg_1"));
  assert.equal(error.code, Code.Unavailable);
  // Two pauses: at least 50 ms and 100 ms (half of 100 ms and of 200 ms).
  assert.ok(Date.now() - started >= 150, `retried after ${Date.now() - started} ms`);
});

test("the backoff doubles from 100 ms, with jitter, up to 2 s", () => {
  for (let n = 0; n < 10; n++) {
    const ceiling = Math.min(2_000, 100 * 2 ** n);
    for (let i = 0; i < 50; i++) {
      const delay = backoffMs(n);
      assert.ok(delay >= ceiling / 2 && delay <= ceiling, `retry ${n}: ${delay} ms`);
    }
  }
});

test("a send retried after UNAVAILABLE carries one idempotency key, so it is one send", async () => {
  script = [Code.Unavailable];
  const sent = await client().send({ notification: { title: "Hi" } });
  assert.equal(sent.messageId, "msg_sent");
  assert.equal(sendKeys.length, 2);
  assert.match(sendKeys[0] ?? "", /^[0-9a-f]{32}$/);
  assert.equal(sendKeys[1], sendKeys[0]);
  // The caller's own key is kept, and "" asks for none.
  await client().send({ idempotencyKey: "order-42" });
  await client().send({ idempotencyKey: "" });
  assert.deepEqual(sendKeys.slice(2), ["order-42", ""]);
});
