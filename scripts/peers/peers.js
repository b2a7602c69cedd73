// Sends pushes with a peer library to the sink of `scripts/bench-peers` and reports, as one JSON
// line, how many were accepted, how long it took and the CPU this Node process used for them.
//
//   node peers.js apns    SINK_URL CA_FILE COUNT   (@parse/node-apn, token auth, one HTTP/2 session)
//   node peers.js webpush SINK_URL CA_FILE COUNT   (web-push: aes128gcm and VAPID, HTTPS keep-alive)
//
// Like Herald's senders, at most IN_FLIGHT pushes are outstanding at once; each push is its own
// notification (its own payload), as Herald's deliveries are.
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const https = require('https');

const IN_FLIGHT = 256;
const [mode, sink, caFile, countArg] = process.argv.slice(2);
const count = Number(countArg);
const ca = fs.readFileSync(caFile);
const sinkUrl = new URL(sink);

async function run(sendOne) {
  let next = 0;
  let accepted = 0;
  let failed = 0;
  const worker = async () => {
    while (next < count) {
      const seq = next++;
      if (await sendOne(seq)) accepted++;
      else failed++;
    }
  };
  const cpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const used = process.cpuUsage(cpu);
  return { accepted, failed, seconds, cpu_seconds: (used.user + used.system) / 1e6 };
}

async function apns() {
  const apn = require('@parse/node-apn');
  const { privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const provider = new apn.Provider({
    token: {
      key: privateKey.export({ type: 'pkcs8', format: 'pem' }),
      keyId: 'ABC123DEFG',
      teamId: 'DEF123GHIJ',
    },
    address: sinkUrl.hostname,
    port: Number(sinkUrl.port),
    production: true,
    ca,
  });
  const tokens = Array.from({ length: 10000 }, (_, n) => n.toString(16).padStart(64, '0'));
  const result = await run(async (seq) => {
    const note = new apn.Notification();
    note.topic = 'com.example.bench';
    note.alert = { title: 'Benchmark', body: 'A notification from herald bench' };
    note.payload = { seq: String(seq) };
    const answer = await provider.send(note, tokens[seq % tokens.length]);
    return answer.sent.length === 1;
  });
  await provider.shutdown();
  return result;
}

async function webpush() {
  const wp = require('web-push');
  const vapid = wp.generateVAPIDKeys();
  const agent = new https.Agent({ keepAlive: true, maxSockets: 64, ca });
  const subscriptions = Array.from({ length: 1000 }, (_, n) => {
    const ecdh = crypto.createECDH('prime256v1');
    ecdh.generateKeys();
    return {
      endpoint: `${sink}/push/${n}`,
      keys: {
        p256dh: ecdh.getPublicKey('base64url'),
        auth: crypto.randomBytes(16).toString('base64url'),
      },
    };
  });
  return run(async (seq) => {
    const payload = JSON.stringify({
      title: 'Benchmark',
      body: 'A notification from herald bench',
      data: { seq: String(seq) },
    });
    try {
      const answer = await wp.sendNotification(subscriptions[seq % subscriptions.length], payload, {
        vapidDetails: {
          subject: 'mailto:bench@herald.test',
          publicKey: vapid.publicKey,
          privateKey: vapid.privateKey,
        },
        TTL: 3600,
        agent,
      });
      return answer.statusCode === 201;
    } catch (error) {
      return false;
    }
  });
}

const peers = { apns, webpush };
if (!peers[mode] || !(count > 0)) {
  console.error('usage: node peers.js apns|webpush SINK_URL CA_FILE COUNT');
  process.exit(2);
}
peers[mode]().then(
  (result) => console.log(JSON.stringify({ peer: mode === 'apns' ? '@parse/node-apn' : 'web-push', ...result })),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
