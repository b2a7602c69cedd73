// src/gen must be what `npm run generate` makes from ../../proto now: a proto changed without
// regenerating fails here.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const packageDir = fileURLToPath(new URL("../../", import.meta.url));

function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)))
    .sort();
}

test("the checked-in generated code matches the protos", () => {
  const out = mkdtempSync(join(tmpdir(), "herald-ts-gen-"));
  try {
    const generated = spawnSync(join(packageDir, "node_modules/.bin/buf"), ["generate", "--output", out], {
      cwd: packageDir,
      encoding: "utf8",
    });
    assert.equal(generated.status, 0, `buf generate failed: ${generated.stderr}`);
    const fresh = join(out, "src/gen");
    const checkedIn = join(packageDir, "src/gen");
    assert.deepEqual(files(checkedIn), files(fresh), "the generated files differ: run npm run generate");
    for (const file of files(fresh)) {
      assert.equal(
        readFileSync(join(checkedIn, file), "utf8"),
        readFileSync(join(fresh, file), "utf8"),
        `src/gen/${file} is stale: run npm run generate`,
      );
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
