// The web console's journeys, in a real headless Chromium (Debian's package) driven by
// Playwright, against a real `herald up --with-mocks` this test starts: an operator creates a
// tenant; the tenant configures FCM with a service-account file and Web Push, tests the
// connection, registers a browser subscription, sends a test notification, follows it to the
// message's timeline (submitted) and sees it in the analytics. Screenshots are kept in
// tests/console/artifacts/ (CI keeps them as the test's artefacts).

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createServer, connect } from "node:net";
import { mkdtempSync, mkdirSync, readFileSync, existsSync, createWriteStream } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, "../..");
const artifacts = join(here, "artifacts");
const herald =
  process.env.HERALD_BIN ??
  join(process.env.CARGO_TARGET_DIR ?? join(repo, "target"), "debug", "herald");
const chromiumPath = process.env.HERALD_CHROMIUM ?? "/usr/bin/chromium";

let up;
let browser;
let base;
let dataDir;
let webhookPort;

function freePort() {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => ok(port));
    });
  });
}

function listening(port) {
  return new Promise((ok) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => { socket.destroy(); ok(true); });
    socket.once("error", () => ok(false));
  });
}

before(async () => {
  assert.ok(existsSync(herald), `no herald binary at ${herald}: build it first (cargo build --bins --all-features)`);
  assert.ok(existsSync(chromiumPath), `no Chromium at ${chromiumPath}: scripts/deps browser installs it`);
  mkdirSync(artifacts, { recursive: true });
  const dir = mkdtempSync(join(tmpdir(), "herald-console-"));
  dataDir = join(dir, "herald-data");
  const api = await freePort();
  const ports = await Promise.all(Array.from({ length: 7 }, freePort));
  const env = { ...process.env, HERALD_DATA_DIR: dataDir, NATS_URL: `nats://127.0.0.1:${ports[0]}`,
    HERALD_METRICS_ADDR: `127.0.0.1:${ports[1]}` };
  for (const name of ["HERALD_DATABASE_URL", "HERALD_MASTER_KEY", "HERALD_ADMIN_KEY", "HERALD_API_KEY"]) delete env[name];
  const log = createWriteStream(join(artifacts, "herald-up.log"));
  up = spawn(herald, ["up", "--with-mocks", "--grpc-addr", `127.0.0.1:${api}`,
    "--mock-fcm-port", `${ports[2]}`, "--mock-hms-port", `${ports[3]}`, "--mock-apns-port", `${ports[4]}`,
    "--mock-push-port", `${ports[5]}`, "--mock-webhook-port", `${ports[6]}`], { env, stdio: ["ignore", "pipe", "pipe"] });
  up.stdout.pipe(log);
  up.stderr.pipe(log);
  const started = Date.now();
  while (!(await listening(api))) {
    assert.equal(up.exitCode, null, "herald up exited; see tests/console/artifacts/herald-up.log");
    assert.ok(Date.now() - started < 120_000, "herald up did not listen within two minutes");
    await new Promise((r) => setTimeout(r, 200));
  }
  base = `http://127.0.0.1:${api}`;
  webhookPort = ports[6];
  browser = await chromium.launch({ executablePath: chromiumPath, args: ["--no-sandbox"] });
});

after(async () => {
  await browser?.close();
  if (up && up.exitCode === null) {
    const stopped = new Promise((r) => up.once("exit", r));
    up.kill("SIGTERM");
    await stopped;
  }
});

async function signIn(page, key) {
  await page.goto(`${base}/console/login`);
  await page.getByLabel("API key").fill(key);
  await page.getByRole("button", { name: "Sign in" }).click();
}

/** Opens a section from the navigation. */
async function section(page, name) {
  await page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name, exact: true }).click();
}

async function shot(page, name) {
  await page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });
}

/** Every visible form control has a label a screen reader reads. */
async function assertLabelled(page) {
  const unlabelled = await page.evaluate(() =>
    [...document.querySelectorAll("input, select, textarea")]
      .filter((e) => e.type !== "hidden")
      .filter((e) => !(e.labels && e.labels.length) && !e.getAttribute("aria-label"))
      .map((e) => e.outerHTML));
  assert.deepEqual(unlabelled, [], "unlabelled form controls");
}

test("the seeds' journey: configure FCM, test it, register a browser, send a test, follow it", async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();

  // A wrong key is refused and nothing is shown.
  await signIn(page, "hrld_not_a_key");
  await assert.doesNotReject(page.getByRole("alert").waitFor());
  assert.match(await page.getByRole("alert").innerText(), /invalid or revoked API key/);
  // Without a session, a page sends the browser to sign in.
  await page.goto(`${base}/console/credentials`);
  assert.equal(new URL(page.url()).pathname, "/console/login");

  // The operator creates a tenant; its first key is shown once.
  const admin = readFileSync(join(dataDir, "admin.key"), "utf8").trim();
  await signIn(page, admin);
  assert.equal(new URL(page.url()).pathname, "/console/tenants");
  await page.getByLabel("Name").fill("Acme");
  await page.getByRole("button", { name: "Create tenant and its first key" }).click();
  const key = (await page.locator("#new-key").innerText()).trim();
  assert.match(key, /^hrld_/);
  await shot(page, "01-tenant-created");
  await assertLabelled(page);
  await page.getByRole("button", { name: "Sign out" }).click();

  // The tenant configures FCM by uploading its service-account file.
  await signIn(page, key);
  assert.equal(new URL(page.url()).pathname, "/console/credentials");
  const account = join(dataDir, "mock-fcm-service-account.json");
  await page.getByLabel("Service-account JSON (from the Firebase console)").setInputFiles(account);
  await page.getByRole("button", { name: "Save FCM credential" }).click();
  assert.match(await page.getByRole("status").first().innerText(), /fcm credential saved/);
  assert.match(await page.getByRole("table", { name: "Configured providers" }).innerText(), /fcm\s+herald-test\s+herald-test@herald-test.iam.gserviceaccount.com/);
  const html = await page.content();
  const secret = JSON.parse(readFileSync(account, "utf8")).private_key;
  assert.ok(!html.includes("PRIVATE KEY") && !html.includes(secret.slice(40, 80)), "the page shows no secret");

  // Test Connection.
  await page.getByRole("button", { name: "Test connection to fcm" }).click();
  assert.match(await page.locator("#test-result").innerText(), /Test Connection \(fcm\): connected/);
  await shot(page, "02-credentials-tested");

  // Web Push: VAPID keys, then a browser's subscription registered for bob.
  await page.getByLabel("Contact (mailto: or https:)").fill("mailto:ops@example.com");
  await page.getByRole("button", { name: "Generate VAPID keys" }).click();
  assert.match(await page.locator("#vapid-key").innerText(), /^B[A-Za-z0-9_-]{86}$/);
  await assertLabelled(page);
  await section(page, "Devices");
  await page.getByLabel("User", { exact: true }).last().fill("bob");
  await page.locator("#r-platform").selectOption("web");
  await page.locator("#r-browser").selectOption("chrome");
  await page.getByLabel(/Subscription/).fill(readFileSync(join(dataDir, "mock-web-subscription.json"), "utf8"));
  await page.getByRole("button", { name: "Register" }).click();
  const registered = await page.getByRole("status").innerText();
  const deviceId = registered.match(/device (dev_\S+) registered/)?.[1];
  assert.ok(deviceId, registered);
  // The device list, filtered: the browser subscription is active.
  await page.locator("#f-platform").selectOption("web");
  await page.getByRole("button", { name: "Filter" }).click();
  const row = page.locator("tbody tr", { hasText: deviceId });
  assert.match(await row.innerText(), /bob\s+web \(chrome\)\s+active/);
  await assertLabelled(page);
  await shot(page, "03-devices");

  // Send Test Notification through Web Push, then follow it to its timeline.
  await section(page, "Credentials");
  await page.locator("#device-webpush").fill(deviceId);
  await page.locator("#title-webpush").fill("Hello from the console");
  await page.getByRole("button", { name: "Send a test notification through webpush" }).click();
  // The answer is the message's own page, with what the provider said and the timeline (a
  // refusal shows on the credentials page instead: the assertion then says what it was).
  const sent = await page.getByRole("status").or(page.getByRole("alert")).first().innerText();
  assert.match(sent, /Test notification sent: the provider's answer is onsubmit/, sent);
  const timeline = page.getByRole("list", { name: /Timeline of delivery/ });
  await assert.doesNotReject(timeline.waitFor());
  const steps = await timeline.innerText();
  assert.match(steps, /accepted/);
  assert.match(steps, /submitted/);
  assert.match(await page.locator(".delivery h3").innerText(), /webpush to dev_\S+: submitted/);
  await shot(page, "04-message-timeline");

  // Reloading the page repeats nothing (the form's post redirected here); the messages list
  // has the one message, newest first.
  await page.reload();
  await section(page, "Messages");
  // Its state is what its delivery came to, as on its own page.
  assert.match(await page.locator("tbody tr").first().innerText(), /Hello from the console\s+submitted/);
  assert.equal(await page.locator("tbody tr", { hasText: "Hello from the console" }).count(), 1);

  // Analytics: today's sent and submitted count it, drawn as bars.
  await section(page, "Analytics");
  const today = new Date().toISOString().slice(0, 10);
  let counts;
  for (let i = 0; i < 50; i++) {
    counts = await page.locator("#per-day tbody tr", { hasText: today }).innerText().catch(() => "");
    if (/\t1\t1\t/.test(counts)) break;
    await new Promise((r) => setTimeout(r, 200));
    await page.reload();
  }
  assert.match(counts, new RegExp(`${today}\\t1\\t1\\t0\\t0\\t0`), counts);
  const bars = await page.locator("#chart rect.bar.submitted").evaluateAll((rs) => rs.map((r) => Number(r.getAttribute("height"))));
  assert.ok(bars.some((h) => h > 0), `a submitted bar of some height: ${bars}`);
  await shot(page, "05-analytics");

  // Keyboard: the first Tab reaches the skip link, and it leads to the content.
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), "Skip to content");

  // The other sections render for the tenant.
  for (const [link, heading] of [["Topics and segments", "Topics and segments"], ["Triggers", "Triggers"], ["Webhooks", "Outbound webhooks"]]) {
    await section(page, link);
    assert.equal(await page.getByRole("heading", { level: 1 }).innerText(), heading);
    assert.match(await page.title(), /^[\w ]+ · Herald console$/);
    await assertLabelled(page);
  }
  await context.close();
});

test("audiences, triggers and webhooks: create them, fire a trigger, see its firing and the endpoint's attempts", async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const admin = readFileSync(join(dataDir, "admin.key"), "utf8").trim();
  await signIn(page, admin);
  await page.getByLabel("Name").fill("Globex");
  await page.getByRole("button", { name: "Create tenant and its first key" }).click();
  const key = (await page.locator("#new-key").innerText()).trim();
  // The operator's list of tenants has it, with a link to its keys.
  assert.match(await page.locator("#tenants").innerText(), /Globex/);
  await page.getByRole("link", { name: "API keys of Globex" }).click();
  assert.match(await page.getByRole("table", { name: /API keys of tnt_/ }).innerText(), /first key\s+server/);
  await page.getByRole("button", { name: "Sign out" }).click();
  await signIn(page, key);

  // FCM and two devices of carol and dave, in a topic; a segment matching one of them.
  await page.getByLabel("Service-account JSON (from the Firebase console)").setInputFiles(join(dataDir, "mock-fcm-service-account.json"));
  await page.getByRole("button", { name: "Save FCM credential" }).click();
  await section(page, "Devices");
  for (const [user, token, locale] of [["carol", "tok-carol", "de-AT"], ["dave", "tok-dave", "fr"]]) {
    await page.locator("#r-user").fill(user);
    await page.locator("#r-platform").selectOption("android");
    await page.locator("#r-token").fill(token);
    await page.locator("#r-locale").fill(locale);
    await page.getByRole("button", { name: "Register" }).click();
    const done = await page.getByRole("status").innerText();
    const id = done.match(/device (dev_\S+) registered/)?.[1];
    assert.ok(id, done);
    // The page it lands on lists that user's devices.
    assert.match(await page.locator("tbody tr", { hasText: id }).innerText(), new RegExp(`${user}\\s+android`));
  }
  await section(page, "Topics and segments");
  await page.getByLabel("Name", { exact: true }).first().fill("news");
  await page.getByRole("button", { name: "Create topic" }).click();
  assert.match(await page.getByRole("status").innerText(), /topic news created/);
  await page.locator("#segment-name").fill("german");
  await page.locator("#segment-expression").fill('platform == android && locale == "de"');
  await page.getByRole("button", { name: "Create segment" }).click();
  const segments = page.getByRole("table", { name: /Segments/ });
  assert.match(await segments.innerText(), /german\s+platform == android && locale == "de"\s+1 devices/);
  // A mistake is refused with its column, and nothing is created.
  await page.locator("#segment-name").fill("broken");
  await page.locator("#segment-expression").fill("news && (");
  await page.getByRole("button", { name: "Create segment" }).click();
  assert.match(await page.getByRole("alert").innerText(), /expression/);
  assert.doesNotMatch(await segments.innerText(), /broken/);
  await assertLabelled(page);

  // A webhook endpoint: the mock receiver answers its test call; the secret is shown once.
  await section(page, "Webhooks");
  await page.getByLabel("URL (https)").fill(`https://localhost:${webhookPort}/hook`);
  await page.getByLabel("delivery.submitted").check();
  await page.getByRole("button", { name: "Add endpoint" }).click();
  assert.match(await page.locator("#new-secret").innerText(), /^whsec_/);
  await section(page, "Webhooks");
  assert.equal(await page.locator("#new-secret").count(), 0, "the secret is not shown again");
  await assertLabelled(page);

  // A trigger, fired by an event published over REST; its firing and message are listed.
  await section(page, "Triggers");
  await page.getByLabel("Name", { exact: true }).fill("Shipped");
  await page.getByLabel("Event type").fill("orderShipped");
  await page.getByLabel(/^Condition/).fill("total > 100");
  await page.getByLabel(/^Title/).fill("Order {{ event.order }} shipped");
  await page.getByLabel("Send to").selectOption("user_id");
  await page.getByLabel(/^User or topic/).fill("{{ event.user }}");
  await page.getByRole("button", { name: "Create trigger" }).click();
  assert.match(await page.getByRole("status").innerText(), /trigger trg_\S+ created/);
  await assertLabelled(page);
  const published = await fetch(`${base}/v1/events`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ event_type: "orderShipped", payload_json: JSON.stringify({ user: "carol", order: "A-7", total: 250 }) }),
  });
  assert.equal(published.status, 200, await published.text());
  await section(page, "Triggers");
  const firing = page.getByRole("table", { name: /Events, newest first/ }).locator("tbody tr").first();
  assert.match(await firing.innerText(), /orderShipped\s+api/);
  assert.match(await firing.innerText(), /Shipped: sent msg_/);
  await firing.getByRole("link", { name: /msg_/ }).click();
  assert.match(await page.locator("h1").innerText(), /Message msg_/);
  // The message keeps the trigger's template (each recipient's text is rendered as it is routed).
  assert.match(await page.locator(".facts").innerText(), /Order \{\{ event.order \}\} shipped/);
  await shot(page, "06-triggered-message");

  // The endpoint got the delivery's submitted event: its attempts say so; replay queues it again.
  const messageId = (await page.locator("h1 code").innerText()).trim();
  await section(page, "Webhooks");
  await page.locator("tbody a").first().click();
  let attempts = "";
  for (let i = 0; i < 50 && !/delivery.submitted/.test(attempts); i++) {
    await new Promise((r) => setTimeout(r, 200));
    await page.reload();
    attempts = await page.getByRole("table", { name: /Attempts/ }).innerText();
  }
  assert.match(attempts, new RegExp(`delivery.submitted\\s+${messageId}\\s+1\\s+succeeded\\s+200`), attempts);
  await page.getByLabel("Message id").fill(messageId);
  await page.getByRole("button", { name: "Send its events again" }).click();
  assert.match(await page.getByRole("status").innerText(), /1 event queued again/);
  await shot(page, "07-webhook-attempts");
  await assertLabelled(page);
  await context.close();
});

test("signing out ends the session: a copy of its cookie opens nothing", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await signIn(page, readFileSync(join(dataDir, "admin.key"), "utf8").trim());
  const [cookie] = await context.cookies();
  assert.equal(cookie.name, "herald_console");
  assert.ok(cookie.httpOnly && cookie.sameSite === "Strict", JSON.stringify(cookie));
  await page.getByRole("button", { name: "Sign out" }).click();
  const copied = await fetch(`${base}/console/tenants`, { headers: { cookie: `${cookie.name}=${cookie.value}` }, redirect: "manual" });
  assert.equal(copied.status, 303);
  assert.equal(copied.headers.get("location"), "/console/login");
  // A console path that is no page answers a page saying so.
  const missing = await fetch(`${base}/console/nope`);
  assert.equal(missing.status, 404);
  assert.match(await missing.text(), /no such page in the console/);
  await context.close();
});

test("a form posted from another site is refused", async () => {
  const answer = await fetch(`${base}/console/login`, {
    method: "POST",
    headers: { origin: "https://evil.example", "content-type": "application/x-www-form-urlencoded" },
    body: "key=x",
  });
  assert.equal(answer.status, 403);
});
