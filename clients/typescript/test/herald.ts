// The Herald that test/run.ts started for the tests, and helpers they share.
import { randomUUID } from "node:crypto";
import assert from "node:assert/strict";
import {
  createHeraldClient,
  Platform,
  type HeraldClient,
  type NodeHeraldClientOptions,
} from "../src/index.js";

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === "") {
    throw new Error(`${name} is not set: run the tests with npm test (test/run.ts starts Herald)`);
  }
  return value;
}

export const heraldUrl = required("HERALD_TEST_URL");
export const apiKey = required("HERALD_TEST_API_KEY");

/** A client of the tests' tenant. */
export function tenantClient(options: Partial<NodeHeraldClientOptions> = {}): HeraldClient {
  return createHeraldClient({ baseUrl: heraldUrl, apiKey, ...options });
}

/** A user id no other test uses. */
export function uniqueUser(prefix: string): string {
  return `${prefix}-${randomUUID()}`;
}

/** A user with one android device; answers the user and the device ids. */
export async function androidUser(
  herald: HeraldClient,
  prefix: string,
): Promise<{ userId: string; deviceId: string }> {
  const userId = uniqueUser(prefix);
  const { device } = await herald.devices.registerDevice({
    userId,
    platform: Platform.ANDROID,
    pushToken: `demo-token-${userId}`,
  });
  assert.ok(device);
  return { userId, deviceId: device.deviceId };
}

/** The provider message name the mock FCM answers. */
export const FCM_MESSAGE = /^projects\/herald-test\/messages\/./;
