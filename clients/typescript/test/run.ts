// The test suite's global setup and teardown: starts a real Herald (`herald up --with-mocks`,
// with its own nats-server and SQLite in a temporary directory), makes a tenant with an API
// key and FCM credentials at the mock FCM, runs every test file with `node --test` against it,
// then stops Herald with SIGTERM. Exits with the tests' status.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createHeraldClient } from "../src/index.js";

const packageDir = fileURLToPath(new URL("../../", import.meta.url));
const repoDir = join(packageDir, "../..");
const testDir = fileURLToPath(new URL(".", import.meta.url));

function heraldBinary(): string {
  const bin =
    process.env.HERALD_BIN ??
    join(process.env.CARGO_TARGET_DIR ?? join(repoDir, "target"), "debug", "herald");
  if (!existsSync(bin)) {
    fail(
      `no herald binary at ${bin}: build it first (cd ${repoDir} && cargo build --bins --all-features), ` +
        "or name it with HERALD_BIN",
    );
  }
  return bin;
}

function requireNatsServer(): void {
  const onPath = (process.env.PATH ?? "")
    .split(delimiter)
    .some((dir) => existsSync(join(dir, "nats-server")));
  if (!onPath) {
    fail(`herald up needs nats-server on PATH: ${join(repoDir, "scripts/deps")} nats installs it`);
  }
}

function fail(message: string): never {
  console.error(`test setup: ${message}`);
  process.exit(2);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** Waits until Herald's API port accepts connections (two minutes at most) or Herald exits. */
async function waitListening(up: ChildProcess, port: number, log: string): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (!(await accepts(port))) {
    if (up.exitCode !== null || up.signalCode !== null || Date.now() > deadline) {
      fail(
        `herald up did not start listening (exit ${up.exitCode ?? up.signalCode}):\n${readFileSync(log, "utf8")}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function stop(up: ChildProcess): Promise<void> {
  if (up.exitCode !== null || up.signalCode !== null) {
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    const kill = setTimeout(() => up.kill("SIGKILL"), 30_000);
    up.once("exit", () => {
      clearTimeout(kill);
      resolve();
    });
    up.kill("SIGTERM");
  });
}

const bin = heraldBinary();
requireNatsServer();
const dir = mkdtempSync(join(tmpdir(), "herald-ts-client-"));
const dataDir = join(dir, "herald-data");
const log = join(dir, "up.log");
const apiPort = await freePort();
const mockPorts = await Promise.all(
  ["fcm", "hms", "apns", "push", "webhook"].map(async (mock) => [
    `--mock-${mock}-port`,
    String(await freePort()),
  ]),
);
const env = { ...process.env };
delete env.HERALD_DATABASE_URL;
delete env.HERALD_MASTER_KEY;
delete env.HERALD_ADMIN_KEY;
Object.assign(env, {
  HERALD_DATA_DIR: dataDir,
  // Nothing listens there, so `herald up` starts its own nats-server with its store in dataDir.
  NATS_URL: `nats://127.0.0.1:${await freePort()}`,
  HERALD_METRICS_ADDR: `127.0.0.1:${await freePort()}`,
});
const logFd = openSync(log, "w");
const up = spawn(bin, ["up", "--with-mocks", "--grpc-addr", `127.0.0.1:${apiPort}`, ...mockPorts.flat()], {
  env,
  stdio: ["ignore", logFd, logFd],
});
const stopOnSignal = () => void stop(up).then(() => process.exit(130));
process.once("SIGINT", stopOnSignal);
process.once("SIGTERM", stopOnSignal);

let status = 1;
try {
  await waitListening(up, apiPort, log);
  const baseUrl = `http://127.0.0.1:${apiPort}`;
  const adminKey = readFileSync(join(dataDir, "admin.key"), "utf8").trim();
  const admin = createHeraldClient({ baseUrl, apiKey: adminKey });
  const tenant = await admin.admin.createTenant({ displayName: "typescript client tests" });
  const { key } = await admin.admin.createApiKey({ tenantId: tenant.tenantId, displayName: "tests" });
  const client = createHeraldClient({ baseUrl, apiKey: key });
  await client.credentials.setCredential({
    credential: {
      case: "fcm",
      value: { serviceAccountJson: readFileSync(join(dataDir, "mock-fcm-service-account.json"), "utf8") },
    },
  });
  const files = readdirSync(testDir)
    .filter((name) => name.endsWith(".test.js"))
    .map((name) => join(testDir, name));
  const tests = spawn(process.execPath, ["--test", ...files], {
    stdio: "inherit",
    env: {
      ...process.env,
      HERALD_TEST_URL: baseUrl,
      HERALD_TEST_API_KEY: key,
      HERALD_TEST_ADMIN_KEY: adminKey,
    },
  });
  status = await new Promise<number>((resolve) => tests.once("exit", (code) => resolve(code ?? 1)));
} finally {
  await stop(up);
  if (status !== 0) {
    console.error(`herald up's log: ${log}`);
  }
  if (status === 0) {
    rmSync(dir, { recursive: true, force: true });
  }
}
process.exit(status);
