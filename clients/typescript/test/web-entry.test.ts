// The browser entry (dist/web.js) must reach no Node module, so that a bundler can take it.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const dist = fileURLToPath(new URL("../../dist/", import.meta.url));
const BROWSER_SAFE = /^@bufbuild\/protobuf(\/|$)|^@connectrpc\/connect(\/|$)|^@connectrpc\/connect-web$/;

/** The packages the modules reachable from `entry` import, following its own relative imports. */
function packagesReached(entry: string): Set<string> {
  const packages = new Set<string>();
  const seen = new Set<string>();
  const pending = [entry];
  for (let file = pending.pop(); file !== undefined; file = pending.pop()) {
    if (seen.has(file)) {
      continue;
    }
    seen.add(file);
    const source = readFileSync(file, "utf8");
    for (const [, specifier] of source.matchAll(
      /(?:^|;|\s)(?:import|export)\s(?:[^"';]*?\sfrom\s)?"([^"]+)"/g,
    )) {
      if (specifier!.startsWith(".")) {
        pending.push(resolve(dirname(file), specifier!));
      } else {
        packages.add(specifier!);
      }
    }
  }
  return packages;
}

test("dist/web.js imports only browser-safe packages", () => {
  const entry = resolve(dist, "web.js");
  assert.ok(existsSync(entry), "build first: npm run build");
  const packages = packagesReached(entry);
  assert.ok(packages.has("@connectrpc/connect-web"), [...packages].join(", "));
  const unsafe = [...packages].filter((name) => !BROWSER_SAFE.test(name));
  assert.deepEqual(unsafe, []);
});

test("dist/index.js, the Node entry, does use connect-node (the check can fail)", () => {
  const packages = packagesReached(resolve(dist, "index.js"));
  assert.ok(packages.has("@connectrpc/connect-node"), [...packages].join(", "));
});
