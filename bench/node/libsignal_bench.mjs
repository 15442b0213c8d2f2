// Anchor benchmark: times @signalapp/libsignal-client (node) sealed sender v1/v2 ops, one JSON line per op on stdout.
//
// Usage: node bench/node/libsignal_bench.mjs [--quick] [--content-bytes 256] [--serialized-sessions]
//   --quick               shorter repeats (0.3 s, 1 s for n=1000 ops) for smoke runs
//   --content-bytes N     size of the opaque USMC content (default 256)
//   --serialized-sessions keep sessions serialized and deserialize them in getExistingSessions, like
//                         libsignal's node TestStores.ts (default: cache SessionRecord objects, like a
//                         client's in-memory session cache)
// Method: 2 warm-up calls, then 5 repeats each lasting >= 1 s (3 s for the n=1000 ops; 0.3 s / 1 s with
// --quick); every op is awaited one after another; the median repeat's ops/s is reported.

import { randomBytes, randomUUID } from 'node:crypto';
import { loadavg, cpus } from 'node:os';
import * as SC from '../../scripts/node/node_modules/@signalapp/libsignal-client/dist/index.js';
import SSMRM from '../../scripts/node/node_modules/@signalapp/libsignal-client/dist/SealedSenderMultiRecipientMessage.js';

// ---------------------------------------------------------------- arguments
const args = process.argv.slice(2);
let quick = false;
let contentBytes = 256;
let serializedSessions = false;
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '--quick') quick = true;
  else if (a === '--serialized-sessions') serializedSessions = true;
  else if (a === '--content-bytes' || a.startsWith('--content-bytes=')) {
    const v = a.includes('=') ? a.split('=')[1] : args[++i];
    contentBytes = Number(v);
    if (!Number.isInteger(contentBytes) || contentBytes < 0 || contentBytes > 60000) {
      die(`bad --content-bytes value: ${v}`);
    }
  } else if (a === '-h' || a === '--help') {
    process.stderr.write('usage: node bench/node/libsignal_bench.mjs [--quick] [--content-bytes N] [--serialized-sessions]\n');
    process.exit(0);
  } else die(`unknown argument: ${a}`);
}

const WARMUP = 2;
const REPEATS = 5;
const MIN_S = quick ? 0.3 : 1.0;
const MIN_S_BIG = quick ? 1.0 : 3.0;
const LIBSIGNAL_VERSION = '0.103.0';

function die(msg) {
  process.stderr.write(`libsignal_bench: ${msg}\n`);
  process.exit(2);
}
function log(msg) {
  process.stderr.write(`[libsignal_bench] ${msg}\n`);
}
function emit(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}
function check(cond, what) {
  if (!cond) throw new Error(`correctness check failed: ${what}`);
}
function eqBytes(a, b) {
  return Buffer.from(a).equals(Buffer.from(b));
}

// ---------------------------------------------------------------- stores (in memory)
const addrKey = (addr) => `${addr.name()}.${addr.deviceId()}`;

class MemIdentityStore extends SC.IdentityKeyStore {
  constructor(priv, regId) {
    super();
    this.priv = priv;
    this.regId = regId;
    this.ids = new Map();
  }
  async getIdentityKey() { return this.priv; }
  async getLocalRegistrationId() { return this.regId; }
  async saveIdentity(addr, key) {
    const k = addrKey(addr);
    const old = this.ids.get(k);
    this.ids.set(k, key);
    return old && !eqBytes(old.serialize(), key.serialize())
      ? SC.IdentityChange.ReplacedExisting
      : SC.IdentityChange.NewOrUnchanged;
  }
  async isTrustedIdentity(addr, key, _dir) {
    const old = this.ids.get(addrKey(addr));
    return !old || eqBytes(old.serialize(), key.serialize());
  }
  async getIdentity(addr) { return this.ids.get(addrKey(addr)) ?? null; }
}

class MemSessionStore extends SC.SessionStore {
  constructor(serialized) {
    super();
    this.serialized = serialized;
    this.map = new Map();
  }
  async saveSession(addr, rec) {
    this.map.set(addrKey(addr), this.serialized ? rec.serialize() : rec);
  }
  load(addr) {
    const v = this.map.get(addrKey(addr));
    if (v === undefined) return null;
    return this.serialized ? SC.SessionRecord.deserialize(v) : v;
  }
  async getSession(addr) { return this.load(addr); }
  async getExistingSessions(addrs) {
    return addrs.map((a) => {
      const r = this.load(a);
      if (r === null) throw new Error(`no session for ${addrKey(a)}`);
      return r;
    });
  }
}

// ---------------------------------------------------------------- protobuf helpers (USMC)
function varint(n) {
  const out = [];
  while (n > 0x7f) { out.push((n & 0x7f) | 0x80); n = Math.floor(n / 128); }
  out.push(n);
  return Buffer.from(out);
}
function lenField(fieldNo, bytes) {
  return Buffer.concat([varint((fieldNo << 3) | 2), varint(bytes.length), Buffer.from(bytes)]);
}
// UnidentifiedSenderMessage.Message {1: type, 2: senderCertificate, 3: content}; contentHint/groupId omitted.
function buildUsmcBytes(type, certBytes, content) {
  return new Uint8Array(Buffer.concat([varint((1 << 3) | 0), varint(type), lenField(2, certBytes), lenField(3, content)]));
}

// ---------------------------------------------------------------- timing
function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}
async function bench(op, fn, minS, note) {
  for (let i = 0; i < WARMUP; i++) await fn();
  const rates = [];
  let totalReps = 0;
  for (let r = 0; r < REPEATS; r++) {
    const minNs = BigInt(Math.round(minS * 1e9));
    let n = 0;
    const t0 = process.hrtime.bigint();
    let el;
    do {
      await fn();
      n++;
      el = process.hrtime.bigint() - t0;
    } while (el < minNs);
    rates.push(n / (Number(el) / 1e9));
    totalReps += n;
  }
  const ops = median(rates);
  const spread = `repeats ops/s min ${Math.min(...rates).toPrecision(4)} max ${Math.max(...rates).toPrecision(4)}`;
  emit({
    impl: 'libsignal-node',
    op,
    ops_per_s: Number(ops.toPrecision(6)),
    us_per_op: Number((1e6 / ops).toPrecision(6)),
    reps: totalReps,
    note: `${note}; median of ${REPEATS} repeats >= ${minS} s after ${WARMUP} warm-ups; ${spread}`,
  });
  log(`${op}: ${ops.toFixed(2)} ops/s (${(1e6 / ops).toFixed(1)} us/op), ${totalReps} calls`);
}

// ---------------------------------------------------------------- setup
async function main() {
  const tStart = Date.now();
  log(`start: ${cpus().length} CPUs, loadavg ${loadavg().map((x) => x.toFixed(2)).join(' ')} (timings are noisy if other jobs run)`);
  emit({ impl: 'libsignal-node', op: 'meta', node: process.version, libsignal: LIBSIGNAL_VERSION, content_bytes: contentBytes });

  const N_MAX = 1000;
  const SIZES = [1, 10, 100, 1000];

  // Trust root -> server certificate -> sender certificate (embedded signer, uuid string, e164, device 1).
  const trustRoot = SC.PrivateKey.generate();
  const trustRootPub = trustRoot.getPublicKey();
  const serverKey = SC.PrivateKey.generate();
  const serverCert = SC.ServerCertificate.new(1, serverKey.getPublicKey(), trustRoot);
  const senderIdentity = SC.PrivateKey.generate();
  const senderUuid = randomUUID();
  const senderE164 = '+14155550100';
  const expires = Date.now() + 30 * 24 * 3600 * 1000;
  const senderCert = SC.SenderCertificate.new(senderUuid, senderE164, 1, senderIdentity.getPublicKey(), expires, serverCert, serverKey);
  const senderAddr = SC.ProtocolAddress.new(senderUuid, 1);

  const content = new Uint8Array(randomBytes(contentBytes));
  const usmc = SC.UnidentifiedSenderMessageContent.deserialize(buildUsmcBytes(2, senderCert.serialize(), content));
  const usmcLen = usmc.serialize().length;
  check(usmc.msgType() === SC.CiphertextMessageType.Whisper, 'USMC type is MESSAGE/Whisper(2)');
  check(eqBytes(usmc.contents(), content), 'USMC content round-trips');

  const senderIdStore = new MemIdentityStore(senderIdentity, 4242);
  const senderSessStore = new MemSessionStore(serializedSessions);

  // Recipients: each with its own identity, registration id, and a real session created from a prekey bundle.
  log(`setting up ${N_MAX} recipients with sessions (processPreKeyBundle)...`);
  const recipients = [];
  const usedRegIds = new Set();
  for (let i = 0; i < N_MAX; i++) {
    const idKey = SC.PrivateKey.generate();
    let regId;
    do { regId = 1 + Math.floor(Math.random() * 0x3ffe); } while (usedRegIds.has(regId));
    usedRegIds.add(regId);
    const uuid = randomUUID();
    const addr = SC.ProtocolAddress.new(uuid, 1);
    const preKey = SC.PrivateKey.generate();
    const spk = SC.PrivateKey.generate();
    const spkPub = spk.getPublicKey();
    const spkSig = idKey.sign(spkPub.serialize());
    const kem = SC.KEMKeyPair.generate();
    const kemPub = kem.getPublicKey();
    const kemSig = idKey.sign(kemPub.serialize());
    const bundle = SC.PreKeyBundle.new(regId, 1, 100 + i, preKey.getPublicKey(), 200 + i, spkPub, spkSig, idKey.getPublicKey(), 300 + i, kemPub, kemSig);
    await SC.processPreKeyBundle(bundle, addr, senderAddr, senderSessStore, senderIdStore);
    recipients.push({ uuid, addr, idKey, regId });
  }
  for (const r of recipients) {
    const s = await senderSessStore.getSession(r.addr);
    check(s !== null && s.hasCurrentState() && s.remoteRegistrationId() === r.regId, `session for recipient ${r.uuid}`);
  }
  log(`setup done in ${((Date.now() - tStart) / 1000).toFixed(1)} s (USMC ${usmcLen} B)`);

  const bob = recipients[0];
  const bobIdStore = new MemIdentityStore(bob.idKey, bob.regId);
  const sessNote = serializedSessions
    ? 'getExistingSessions deserializes SessionRecords (TestStores style)'
    : 'getExistingSessions returns cached SessionRecord objects';

  // ------------------------------------------------------------ correctness checks (once, before timing)
  const openAndValidate = async (bytes, idStore) => {
    const u = await SC.sealedSenderDecryptToUsmc(bytes, idStore);
    if (!u.senderCertificate().validate(trustRootPub, Date.now())) throw new Error('sender certificate failed validation');
    return u;
  };
  const checkOpened = (u, what) => {
    check(u.msgType() === SC.CiphertextMessageType.Whisper, `${what}: msgType`);
    check(eqBytes(u.contents(), content), `${what}: content equals input`);
    check(u.senderCertificate().senderUuid() === senderUuid, `${what}: sender uuid`);
    check(u.senderCertificate().senderE164() === senderE164, `${what}: sender e164`);
    check(u.senderCertificate().senderDeviceId() === 1, `${what}: sender device`);
    check(eqBytes(u.senderCertificate().key().serialize(), senderIdentity.getPublicKey().serialize()), `${what}: sender identity key`);
  };

  const v1msg = await SC.sealedSenderEncrypt(usmc, bob.addr, senderIdStore);
  check((v1msg[0] >> 4) === 1, 'v1 version byte 0x1?');
  checkOpened(await openAndValidate(v1msg, bobIdStore), 'v1');
  {
    const other = SC.PrivateKey.generate().getPublicKey();
    const u = await SC.sealedSenderDecryptToUsmc(v1msg, bobIdStore);
    check(u.senderCertificate().validate(other, Date.now()) === false, 'v1: wrong trust root rejected');
    check(u.senderCertificate().validate(trustRootPub, expires + 1) === false, 'v1: expired cert rejected');
    let threw = false;
    try { await SC.sealedSenderDecryptToUsmc(v1msg, new MemIdentityStore(recipients[1].idKey, 1)); } catch { threw = true; }
    check(threw, 'v1: wrong recipient key fails');
  }

  const addrLists = {};
  const sent = {};
  for (const n of SIZES) {
    addrLists[n] = recipients.slice(0, n).map((r) => r.addr);
    sent[n] = await SC.sealedSenderMultiRecipientEncrypt(usmc, addrLists[n], senderIdStore, senderSessStore);
    check(sent[n][0] === 0x23, `v2 n=${n}: version 0x23`);
    const expectLen = 1 + varint(n).length + 68 * n + 32 + usmcLen + 16;
    check(sent[n].length === expectLen, `v2 n=${n}: length ${sent[n].length} == ${expectLen}`);
  }
  {
    const m = new SSMRM(sent[N_MAX]);
    const map = m.recipientsByServiceIdString();
    check(Object.keys(map).length === N_MAX, 'fanout: 1000 recipients parsed');
    check(m.excludedRecipientServiceIdStrings().length === 0, 'fanout: no excluded recipients');
    for (const r of recipients) {
      const e = map[r.uuid];
      check(e && e.deviceIds.length === 1 && e.deviceIds[0] === 1 && e.registrationIds[0] === r.regId, `fanout: entry for ${r.uuid}`);
    }
    for (const idx of [0, 1, 499, 998, 999]) {
      const r = recipients[idx];
      const rcv = m.messageForRecipient(map[r.uuid]);
      check(rcv[0] === 0x22 && rcv.length === usmcLen + 97, `fanout: received message for #${idx}`);
      checkOpened(await openAndValidate(rcv, new MemIdentityStore(r.idKey, r.regId)), `v2 n=1000 recipient #${idx}`);
    }
    // Recipient 0's payload must not open with recipient 1's key.
    let threw = false;
    try { await SC.sealedSenderDecryptToUsmc(m.messageForRecipient(map[bob.uuid]), new MemIdentityStore(recipients[1].idKey, 1)); } catch { threw = true; }
    check(threw, 'v2: wrong recipient key fails');
  }
  for (const n of [1, 10]) {
    const m = new SSMRM(sent[n]);
    const rcv = m.messageForRecipient(m.recipientsByServiceIdString()[bob.uuid]);
    checkOpened(await openAndValidate(rcv, bobIdStore), `v2 n=${n}`);
  }
  const v2received = new SSMRM(sent[N_MAX]).messageForRecipient(new SSMRM(sent[N_MAX]).recipientsByServiceIdString()[bob.uuid]);
  log('correctness checks passed; timing...');

  // ------------------------------------------------------------ timed operations
  await bench('v1_seal', () => SC.sealedSenderEncrypt(usmc, bob.addr, senderIdStore), MIN_S,
    `sealedSenderEncrypt, USMC ${usmcLen} B (type MESSAGE, content ${contentBytes} B), out ${v1msg.length} B, identity store only`);

  await bench('v1_open', async () => {
    const u = await SC.sealedSenderDecryptToUsmc(v1msg, bobIdStore);
    if (!u.senderCertificate().validate(trustRootPub, Date.now())) throw new Error('validate failed');
  }, MIN_S, `sealedSenderDecryptToUsmc + senderCertificate().validate, in ${v1msg.length} B`);

  for (const n of SIZES) {
    const addrs = addrLists[n];
    await bench(`v2_seal_${n}`, () => SC.sealedSenderMultiRecipientEncrypt(usmc, addrs, senderIdStore, senderSessStore),
      n >= 1000 ? MIN_S_BIG : MIN_S,
      `sealedSenderMultiRecipientEncrypt, ${n} recipients x 1 device, USMC ${usmcLen} B, out ${sent[n].length} B; ${sessNote}; JS store callbacks included`);
  }

  const sent1000 = sent[N_MAX];
  await bench('fanout_1000', () => {
    const m = new SSMRM(sent1000);
    const map = m.recipientsByServiceIdString();
    let total = 0;
    for (const r of Object.values(map)) total += m.messageForRecipient(r).length;
    if (total !== N_MAX * (usmcLen + 97)) throw new Error('fanout size mismatch');
    return total;
  }, MIN_S_BIG, `new SealedSenderMultiRecipientMessage(${sent1000.length} B) + messageForRecipient x1000 (each ${usmcLen + 97} B copy)`);

  await bench('v2_open', async () => {
    const u = await SC.sealedSenderDecryptToUsmc(v2received, bobIdStore);
    if (!u.senderCertificate().validate(trustRootPub, Date.now())) throw new Error('validate failed');
  }, MIN_S, `sealedSenderDecryptToUsmc + senderCertificate().validate on a ${v2received.length} B ReceivedMessage (from the n=1000 SentMessage)`);

  log(`total ${((Date.now() - tStart) / 1000).toFixed(1)} s; loadavg ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
}

main().catch((e) => {
  process.stderr.write(`libsignal_bench: FAILED: ${e && e.stack ? e.stack : e}\n`);
  process.exit(1);
});
