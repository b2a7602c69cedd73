// The client covers the whole API: every service of proto/herald/v1 with each of its methods,
// and a listAll… helper for every List call (a new List RPC without one fails here).
import assert from "node:assert/strict";
import { test } from "node:test";
import type { DescFile } from "@bufbuild/protobuf";
import {
  createHeraldClient,
  file_herald_v1_admin,
  file_herald_v1_credentials,
  file_herald_v1_customers,
  file_herald_v1_devices,
  file_herald_v1_events,
  file_herald_v1_notifications,
  file_herald_v1_topics,
  file_herald_v1_webhooks,
} from "../src/index.js";

const files: DescFile[] = [
  file_herald_v1_admin,
  file_herald_v1_credentials,
  file_herald_v1_customers,
  file_herald_v1_devices,
  file_herald_v1_events,
  file_herald_v1_notifications,
  file_herald_v1_topics,
  file_herald_v1_webhooks,
];
const services = files.flatMap((file) => file.services);
const client = createHeraldClient({
  baseUrl: "http://127.0.0.1:9",
  apiKey: "hrld_unused",
}) as unknown as Record<string, unknown>;

test("every service is a property of the client, with every method", () => {
  assert.equal(services.length, 8);
  for (const service of services) {
    const property = service.name[0]!.toLowerCase() + service.name.slice(1);
    const calls = client[property] as Record<string, unknown> | undefined;
    assert.ok(calls, `client.${property}`);
    for (const method of service.methods) {
      assert.equal(typeof calls[method.localName], "function", `client.${property}.${method.localName}`);
    }
  }
});

test("every List call has a listAll helper", () => {
  const lists = services
    .flatMap((service) => service.methods)
    .filter((method) => method.name.startsWith("List"));
  assert.ok(lists.length >= 13, `${lists.length} List calls`);
  for (const method of lists) {
    const helper = `listAll${method.name.slice("List".length)}`;
    assert.equal(typeof client[helper], "function", helper);
  }
});
