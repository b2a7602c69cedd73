// The same send over gRPC-Web, as browsers speak it: the Node client's "grpc-web" transport, and
// the browser entry (@herald/client/web, fetch-based) run here on Node's fetch; and the CORS
// answers a browser needs before it may call.
import assert from "node:assert/strict";
import { test } from "node:test";
import { createHeraldClient as createWebClient } from "../src/web.js";
import { Code, DeliveryStatus, HeraldError, WaitOutcome, type HeraldClient } from "../src/index.js";
import { androidUser, apiKey, FCM_MESSAGE, heraldUrl, tenantClient } from "./herald.js";

async function sendAndWaitSubmitted(client: HeraldClient): Promise<void> {
  const { userId, deviceId } = await androidUser(client, "grpc-web");
  const waited = await client.sendAndWait(
    { destination: { kind: { case: "userId", value: userId } }, notification: { title: "Over gRPC-Web" } },
    { timeoutSeconds: 30 },
  );
  assert.equal(waited.outcome, WaitOutcome.ONSUBMIT, `outcome ${waited.outcome}: ${waited.reason}`);
  assert.equal(waited.deliveries[0]?.deviceId, deviceId);
  assert.equal(waited.deliveries[0]?.status, DeliveryStatus.SUBMITTED);
  assert.match(waited.deliveries[0]?.providerMessageId ?? "", FCM_MESSAGE);

  const statuses: DeliveryStatus[] = [];
  for await (const update of client.watchMessage(waited.messageId)) {
    statuses.push(update.delivery!.status);
    break;
  }
  assert.deepEqual(statuses, [DeliveryStatus.SUBMITTED]);

  try {
    await client.send({ destination: { kind: { case: "userId", value: userId } }, notification: {} });
    assert.fail("an empty notification was accepted");
  } catch (e) {
    assert.ok(e instanceof HeraldError, `not a HeraldError: ${e}`);
    assert.equal(e.code, Code.InvalidArgument);
    assert.deepEqual(
      e.fieldViolations.map((violation) => violation.field),
      ["notification"],
    );
  }
}

test("the Node client over gRPC-Web sends and waits until SUBMITTED", async () => {
  await sendAndWaitSubmitted(tenantClient({ transport: "grpc-web" }));
});

test("the browser entry (fetch, gRPC-Web) sends and waits until SUBMITTED", async () => {
  await sendAndWaitSubmitted(createWebClient({ baseUrl: heraldUrl, apiKey }));
});

test("CORS: a browser page of another origin may call with its key and read the status", async () => {
  const url = `${heraldUrl}/herald.v1.Notifications/GetMessage`;
  const origin = "https://app.example";
  const preflight = await fetch(url, {
    method: "OPTIONS",
    headers: {
      origin,
      "access-control-request-method": "POST",
      "access-control-request-headers": "authorization,content-type,grpc-timeout,x-grpc-web,x-user-agent",
    },
  });
  assert.ok(preflight.ok, `preflight answered ${preflight.status}`);
  assert.ok(
    ["*", origin].includes(preflight.headers.get("access-control-allow-origin") ?? ""),
    `allow-origin ${preflight.headers.get("access-control-allow-origin")}`,
  );
  const allowed = (preflight.headers.get("access-control-allow-headers") ?? "").toLowerCase();
  // What connect-web sends: grpc-timeout too, since every call of a Herald client has a deadline.
  for (const header of ["authorization", "content-type", "grpc-timeout", "x-grpc-web", "x-user-agent"]) {
    assert.ok(allowed === "*" || allowed.split(/\s*,\s*/).includes(header), `allow-headers: ${allowed}`);
  }

  const answer = await fetch(url, {
    method: "POST",
    headers: {
      origin,
      authorization: `Bearer ${apiKey}`,
      "content-type": "application/grpc-web+proto",
      "x-grpc-web": "1",
    },
    body: new Uint8Array([0, 0, 0, 0, 0]),
  });
  await answer.arrayBuffer();
  const exposed = (answer.headers.get("access-control-expose-headers") ?? "").toLowerCase().split(/\s*,\s*/);
  for (const header of ["grpc-status", "grpc-message", "grpc-status-details-bin"]) {
    assert.ok(exposed.includes(header), `expose-headers: ${exposed}`);
  }
});
