// Errors from a real Herald, as HeraldError with the BadRequest's field violations.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Code, createHeraldClient, HeraldError } from "../src/index.js";
import { heraldUrl, tenantClient, uniqueUser } from "./herald.js";

const client = tenantClient();

async function refusal(call: Promise<unknown>): Promise<HeraldError> {
  try {
    await call;
  } catch (e) {
    assert.ok(e instanceof HeraldError, `not a HeraldError: ${e}`);
    return e;
  }
  assert.fail("the call was accepted");
}

test("a title over 5120 bytes is INVALID_ARGUMENT with a field violation naming notification.title", async () => {
  const error = await refusal(
    client.send({
      destination: { kind: { case: "userId", value: uniqueUser("errors") } },
      notification: { title: "t".repeat(5121) },
    }),
  );
  assert.equal(error.code, Code.InvalidArgument);
  assert.deepEqual(
    error.fieldViolations.map((violation) => violation.field),
    ["notification.title"],
  );
  assert.match(error.fieldViolations[0]!.description, /5121 bytes/);
  assert.match(error.rawMessage, /notification\.title/);
  assert.match(error.message, /^\[invalid_argument\] /);
});

test("an empty notification is INVALID_ARGUMENT naming notification", async () => {
  const error = await refusal(
    client.send({ destination: { kind: { case: "userId", value: uniqueUser("errors") } }, notification: {} }),
  );
  assert.equal(error.code, Code.InvalidArgument);
  assert.deepEqual(
    error.fieldViolations.map((violation) => violation.field),
    ["notification"],
  );
});

test("a topic the tenant does not have is NOT_FOUND, without field violations", async () => {
  const error = await refusal(
    client.send({
      destination: { kind: { case: "topic", value: "no-such-topic" } },
      notification: { title: "Hi" },
    }),
  );
  assert.equal(error.code, Code.NotFound);
  assert.deepEqual(error.fieldViolations, []);
});

test("a wrong API key is UNAUTHENTICATED", async () => {
  const stranger = createHeraldClient({ baseUrl: heraldUrl, apiKey: "hrld_not-a-key" });
  const error = await refusal(stranger.getMessage("msg_none"));
  assert.equal(error.code, Code.Unauthenticated);
});

async function watchRefusal(messageId: string): Promise<HeraldError> {
  return refusal(
    (async () => {
      for await (const update of client.watchMessage(messageId)) {
        assert.fail(`an update: ${update.messageId}`);
      }
    })(),
  );
}

test("a stream's errors are HeraldErrors too: watching a malformed message id names message_id", async () => {
  const error = await watchRefusal("msg_not-an-id");
  assert.equal(error.code, Code.InvalidArgument);
  assert.deepEqual(
    error.fieldViolations.map((violation) => violation.field),
    ["message_id"],
  );
});

test("watching a message that does not exist is NOT_FOUND", async () => {
  const error = await watchRefusal("msg_00000000000000000000000000000000");
  assert.equal(error.code, Code.NotFound, error.message);
});
