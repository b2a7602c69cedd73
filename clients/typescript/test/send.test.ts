// Sending through a real Herald with the mock FCM: send, sendAndWait, getMessage, watchMessage.
import assert from "node:assert/strict";
import { test } from "node:test";
import { DeliveryStatus, DeviceEventKind, MessageState, Provider, WaitOutcome } from "../src/index.js";
import { androidUser, FCM_MESSAGE, tenantClient } from "./herald.js";

const client = tenantClient();

test("send accepts a notification to a user and getMessage follows it to SUBMITTED at FCM", async () => {
  const { userId, deviceId } = await androidUser(client, "send");
  const sent = await client.send({
    destination: { kind: { case: "userId", value: userId } },
    notification: { title: "Hello", body: "First push", data: { order: "42" } },
  });
  assert.match(sent.messageId, /^msg_/);
  assert.equal(sent.duplicate, false);

  const deadline = Date.now() + 30_000;
  let got = await client.getMessage(sent.messageId);
  while (got.message?.state !== MessageState.SUBMITTED && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    got = await client.getMessage(sent.messageId);
  }
  assert.equal(got.message?.state, MessageState.SUBMITTED, `message state ${got.message?.state}`);
  assert.equal(got.message?.notification?.title, "Hello");
  assert.deepEqual(got.message?.notification?.data, { order: "42" });
  assert.equal(got.deliveries.length, 1);
  const [delivery] = got.deliveries;
  assert.equal(delivery?.deviceId, deviceId);
  assert.equal(delivery?.provider, Provider.FCM);
  assert.equal(delivery?.status, DeliveryStatus.SUBMITTED);
  assert.match(delivery?.providerMessageId ?? "", FCM_MESSAGE);
});

test("sendAndWait answers ONSUBMIT with the delivery the mock FCM accepted", async () => {
  const { userId, deviceId } = await androidUser(client, "wait");
  const waited = await client.sendAndWait(
    { destination: { kind: { case: "userId", value: userId } }, notification: { title: "Hello again" } },
    { timeoutSeconds: 30 },
  );
  assert.equal(waited.outcome, WaitOutcome.ONSUBMIT, `outcome ${waited.outcome}: ${waited.reason}`);
  assert.match(waited.messageId, /^msg_/);
  assert.equal(waited.deliveries.length, 1);
  const [delivery] = waited.deliveries;
  assert.equal(delivery?.deviceId, deviceId);
  assert.equal(delivery?.status, DeliveryStatus.SUBMITTED);
  assert.equal(delivery?.attempts, 1);
  assert.match(delivery?.providerMessageId ?? "", FCM_MESSAGE);
});

test("watchMessage yields the delivery at each status until it is final", { timeout: 60_000 }, async () => {
  const { userId, deviceId } = await androidUser(client, "watch");
  const sent = await client.send({
    destination: { kind: { case: "userId", value: userId } },
    notification: { title: "Watched" },
  });
  const statuses: DeliveryStatus[] = [];
  for await (const update of client.watchMessage(sent.messageId)) {
    assert.equal(update.messageId, sent.messageId);
    assert.equal(update.delivery?.deviceId, deviceId);
    statuses.push(update.delivery!.status);
    if (update.delivery!.status === DeliveryStatus.SUBMITTED) {
      // The device reports it read: a final status, so the stream ends by itself.
      await client.notifications.reportDeliveryEvent({
        deliveryId: update.delivery!.deliveryId,
        kind: DeviceEventKind.READ,
      });
    }
  }
  assert.ok(statuses.includes(DeliveryStatus.SUBMITTED), `statuses ${statuses}`);
  assert.equal(statuses.at(-1), DeliveryStatus.READ, `statuses ${statuses}`);
  assert.deepEqual(
    statuses,
    [...statuses].sort((a, b) => a - b),
    "in the order the statuses climb",
  );
});

test("leaving a watch early ends it, and the client goes on working", { timeout: 30_000 }, async () => {
  const { userId } = await androidUser(client, "watch-early");
  const sent = await client.send({
    destination: { kind: { case: "userId", value: userId } },
    notification: { title: "Watched briefly" },
  });
  let seen = 0;
  for await (const update of client.watchMessage(sent.messageId)) {
    assert.equal(update.messageId, sent.messageId);
    seen++;
    break;
  }
  assert.equal(seen, 1);
  const got = await client.getMessage(sent.messageId);
  assert.equal(got.message?.messageId, sent.messageId);
});
