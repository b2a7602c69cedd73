// Paging through a real Herald: more than one page of devices, with paginate and listAllDevices.
import assert from "node:assert/strict";
import { test } from "node:test";
import { paginate, Platform } from "../src/index.js";
import { tenantClient, uniqueUser } from "./herald.js";

const client = tenantClient();

test("paginate and listAllDevices yield 25 devices across pages of 10", async () => {
  const userId = uniqueUser("pager");
  const registered = new Set<string>();
  for (let i = 0; i < 25; i++) {
    const { device } = await client.devices.registerDevice({
      userId,
      platform: Platform.ANDROID,
      pushToken: `page-token-${userId}-${i}`,
    });
    registered.add(device!.deviceId);
  }
  assert.equal(registered.size, 25);

  let pages = 0;
  const countingListDevices: typeof client.devices.listDevices = (request, options) => {
    pages++;
    return client.devices.listDevices(request, options);
  };
  const paged: string[] = [];
  for await (const device of paginate(countingListDevices, { userId, pageSize: 10 })) {
    assert.equal(device.userId, userId);
    paged.push(device.deviceId);
  }
  assert.equal(pages, 3);
  assert.equal(paged.length, 25);
  assert.deepEqual(new Set(paged), registered);

  const listed: string[] = [];
  for await (const device of client.listAllDevices({ userId, pageSize: 10 })) {
    listed.push(device.deviceId);
  }
  assert.deepEqual(listed, paged);

  const first = await client.devices.listDevices({ userId, pageSize: 10 });
  assert.equal(first.devices.length, 10);
  assert.notEqual(first.nextPageToken, "");
});
