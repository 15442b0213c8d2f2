// Interop test harness: checks the Veil CLI's sealed sender v1/v2 against @signalapp/libsignal-client 0.103.0.
//
// Usage: node tests/interop/interop.mjs --veil /path/to/veil [--workdir DIR] [--keep]
// Prints "ok - name" / "not ok - name: reason" per check, then "N passed, M failed".
import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

import * as SC from '../../scripts/node/node_modules/@signalapp/libsignal-client/dist/index.js';
import SSMRM from '../../scripts/node/node_modules/@signalapp/libsignal-client/dist/SealedSenderMultiRecipientMessage.js';
import { Party, MemIdentityStore } from './signal_stores.mjs';

// ---------------------------------------------------------------------------------------------
// Command line, work directory
// ---------------------------------------------------------------------------------------------

const { values: opts } = parseArgs({
  options: {
    veil: { type: 'string' },
    workdir: { type: 'string' },
    keep: { type: 'boolean', default: false },
  },
});

let passed = 0;
let failed = 0;

function finish() {
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
}

if (!opts.veil) {
  console.log('not ok - veil binary: no --veil PATH given');
  failed++;
  finish();
}
const VEIL = path.resolve(opts.veil);
try {
  fs.accessSync(VEIL, fs.constants.X_OK);
  if (!fs.statSync(VEIL).isFile()) throw new Error('not a regular file');
} catch (e) {
  console.log(`not ok - veil binary: ${VEIL} is missing or not executable (${e.message})`);
  failed++;
  finish();
}

const WORK = opts.workdir
  ? (fs.mkdirSync(opts.workdir, { recursive: true }), fs.mkdtempSync(path.join(path.resolve(opts.workdir), 'interop-')))
  : fs.mkdtempSync(path.join(os.tmpdir(), 'veil-interop-'));
// Watchdog: never run much longer than the ~60 s budget, even if veil hangs on every call.
setTimeout(() => {
  console.log('not ok - harness watchdog: run exceeded 180 s, aborting');
  failed++;
  console.log(`# files kept in ${WORK}`);
  finish();
}, 180_000).unref();
console.log(`# veil: ${VEIL}`);
console.log(`# workdir: ${WORK}`);

// ---------------------------------------------------------------------------------------------
// Small utilities
// ---------------------------------------------------------------------------------------------

const DAY = 86_400_000;
const NOW = Date.now();
const hex = (b) => (b == null ? null : Buffer.from(b).toString('hex'));
const b64 = (b) => Buffer.from(b).toString('base64');
const eqBytes = (a, b) => a != null && b != null && Buffer.from(a).equals(Buffer.from(b));
const short = (s, n = 300) => {
  s = String(s).replace(/\s*\n\s*/g, ' | ').trim();
  return s.length > n ? `${s.slice(0, n)}…(${s.length} chars)` : s;
};
const shortHex = (b, n = 64) => {
  const h = hex(b);
  return h.length > n * 2 ? `${h.slice(0, n * 2)}…(${Buffer.from(b).length} B)` : h;
};

/** Location in the work dir; creates parent dirs. */
function wp(rel) {
  const p = path.join(WORK, rel);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  return p;
}
function writeFile(rel, bytes) {
  const p = wp(rel);
  fs.writeFileSync(p, Buffer.from(bytes));
  return p;
}
function readFile(p) {
  return new Uint8Array(fs.readFileSync(p));
}
/** Reads a file veil was supposed to write (clear message if it did not). */
function readProduced(p) {
  if (!fs.existsSync(p)) throw new Error(`veil exited 0 but did not write ${rel(p)}`);
  return readFile(p);
}
const rel = (p) => (typeof p === 'string' && p.startsWith(WORK) ? `$W${p.slice(WORK.length)}` : p);

async function test(name, fn) {
  try {
    await fn();
    passed++;
    console.log(`ok - ${name}`);
  } catch (e) {
    failed++;
    const msg = e && e.message ? e.message : String(e);
    console.log(`not ok - ${name}: ${short(msg, 2000)}`);
  }
}

/** Throws if a prerequisite value from an earlier step is missing. */
function need(value, what) {
  if (value === undefined || value === null) throw new Error(`prerequisite failed: ${what}`);
  return value;
}

/** Collects field mismatches and throws one error listing them all. */
class Diff {
  constructor(context) {
    this.context = context;
    this.problems = [];
  }
  eq(label, actual, expected) {
    const a = actual instanceof Uint8Array ? hex(actual) : actual;
    const e = expected instanceof Uint8Array ? hex(expected) : expected;
    if (a !== e) this.problems.push(`${label}: expected ${fmt(e)}, got ${fmt(a)}`);
    return this;
  }
  ok(label, cond, detail = '') {
    if (!cond) this.problems.push(`${label}${detail ? ` (${detail})` : ''}`);
    return this;
  }
  check() {
    if (this.problems.length) {
      throw new Error(`${this.context ? `${this.context}: ` : ''}${this.problems.join('; ')}`);
    }
  }
}
function fmt(v) {
  if (typeof v === 'string') return JSON.stringify(v.length > 140 ? `${v.slice(0, 140)}…(${v.length} chars)` : v);
  return JSON.stringify(v) ?? String(v);
}

// ---------------------------------------------------------------------------------------------
// Running veil
// ---------------------------------------------------------------------------------------------

function runVeil(args) {
  const shown = `veil ${args.map(rel).join(' ')}`;
  try {
    const stdout = execFileSync(VEIL, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 20_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    return { code: 0, stdout: stdout.toString('utf8'), stderr: '', shown };
  } catch (e) {
    if (e.status === null || e.status === undefined) {
      const why = e.signal ? `killed by ${e.signal}${e.signal === 'SIGTERM' ? ' (timeout?)' : ''}` : e.message;
      return { code: why, stdout: e.stdout?.toString() ?? '', stderr: e.stderr?.toString() ?? '', shown, abnormal: true };
    }
    return { code: e.status, stdout: e.stdout?.toString() ?? '', stderr: e.stderr?.toString() ?? '', shown };
  }
}

/** Runs veil, requires exit 0, returns stdout. */
function veilOk(args) {
  const r = runVeil(args);
  if (r.code !== 0) throw new Error(`\`${r.shown}\` exited ${r.code}: ${short(r.stderr || '(empty stderr)')}`);
  return r.stdout;
}

/** Runs veil, requires exit 0 and a JSON object on stdout. */
function veilJson(args) {
  const out = veilOk(args);
  if (out.trim() === '') throw new Error(`\`veil ${args.map(rel).join(' ')}\` exited 0 but printed nothing on stdout`);
  let j;
  try {
    j = JSON.parse(out.trim());
  } catch (e) {
    throw new Error(`\`veil ${args.map(rel).join(' ')}\` printed non-JSON stdout: ${short(out)}`);
  }
  if (j === null || typeof j !== 'object' || Array.isArray(j)) {
    throw new Error(`\`veil ${args.map(rel).join(' ')}\` printed JSON that is not an object: ${short(out)}`);
  }
  return j;
}

const failureStderrs = []; // {shown, stderr} from expected failures, checked for the one-line rule

/** Runs veil, requires a non-zero (normal) exit; returns stderr. */
function veilFails(args) {
  const r = runVeil(args);
  if (r.code === 0) throw new Error(`\`${r.shown}\` was expected to fail but exited 0; stdout: ${short(r.stdout)}`);
  if (r.abnormal) throw new Error(`\`${r.shown}\` did not exit normally: ${r.code}; stderr: ${short(r.stderr)}`);
  failureStderrs.push({ shown: r.shown, stderr: r.stderr });
  return r.stderr;
}

// ---------------------------------------------------------------------------------------------
// Protobuf / Signal helpers
// ---------------------------------------------------------------------------------------------

function varint(n) {
  const out = [];
  let v = BigInt(n);
  while (v > 127n) {
    out.push(Number(v & 127n) | 128);
    v >>= 7n;
  }
  out.push(Number(v));
  return out;
}
function readVarint(buf, o) {
  let v = 0n;
  let shift = 0n;
  for (;;) {
    if (o >= buf.length) throw new Error('truncated varint');
    const b = buf[o++];
    v |= BigInt(b & 127) << shift;
    if (!(b & 128)) break;
    shift += 7n;
    if (shift > 63n) throw new Error('varint too long');
  }
  return [Number(v), o];
}
const pbBytes = (num, bytes) => [...varint((num << 3) | 2), ...varint(bytes.length), ...bytes];
const pbVarint = (num, v) => [...varint(num << 3), ...varint(v)];

// type names used by veil <-> proto enum <-> libsignal CiphertextMessageType
const TYPES = {
  prekey: { proto: 1, ls: SC.CiphertextMessageType.PreKey },
  message: { proto: 2, ls: SC.CiphertextMessageType.Whisper },
  senderkey: { proto: 7, ls: SC.CiphertextMessageType.SenderKey },
  plaintext: { proto: 8, ls: SC.CiphertextMessageType.Plaintext },
};

/**
 * The canonical (prost, field-number order) USMC encoding, which is what libsignal's encoder
 * writes: type, senderCertificate, content, contentHint unless 0, groupId unless empty.
 */
function usmcBytes({ type, cert, content, hint = 0, group = null }) {
  return new Uint8Array([
    ...pbVarint(1, TYPES[type].proto),
    ...pbBytes(2, cert),
    ...pbBytes(3, content),
    ...(hint ? pbVarint(4, hint) : []),
    ...(group && group.length ? pbBytes(5, group) : []),
  ]);
}

function uuidString(b16) {
  const h = hex(b16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
const uuidBytes = (u) => Buffer.from(u.replace(/-/g, ''), 'hex');

/** Parses a sealed sender v2 SentMessage (0x22 legacy or 0x23) into its parts. */
function parseSent(buf) {
  buf = Buffer.from(buf);
  let o = 0;
  const version = buf[o++];
  if (version !== 0x22 && version !== 0x23) throw new Error(`bad SentMessage version 0x${version?.toString(16)}`);
  let count;
  [count, o] = readVarint(buf, o);
  const entries = [];
  for (let i = 0; i < count; i++) {
    let sid;
    if (version === 0x23) {
      const kind = buf[o];
      if (kind !== 0 && kind !== 1) throw new Error(`bad service id kind ${kind} at ${o}`);
      sid = (kind === 1 ? 'PNI:' : '') + uuidString(buf.subarray(o + 1, o + 17));
      o += 17;
    } else {
      sid = uuidString(buf.subarray(o, o + 16));
      o += 16;
    }
    if (buf[o] === 0) {
      o++;
      entries.push({ sid, excluded: true });
      continue;
    }
    const devices = [];
    for (;;) {
      const id = buf[o++];
      const v = buf.readUInt16BE(o);
      o += 2;
      devices.push({ id, registration_id: v & 0x3fff, raw: v });
      if (!(v & 0x8000)) break;
    }
    const keyMaterial = buf.subarray(o, o + 48);
    o += 48;
    entries.push({ sid, devices, keyMaterial });
  }
  if (buf.length - o < 32) throw new Error('SentMessage too short for E');
  return { version, count, entries, E: buf.subarray(o, o + 32), shared: buf.subarray(o), ciphertext: buf.subarray(o + 32) };
}

/** Re-encodes an ACI-only 0x23 SentMessage in the legacy 0x22 form (16-byte UUIDs). */
function toLegacySent(buf) {
  const p = parseSent(buf);
  const out = [0x22, ...varint(p.entries.length)];
  for (const e of p.entries) {
    if (e.sid.startsWith('PNI:')) throw new Error('legacy form cannot carry PNI');
    out.push(...uuidBytes(e.sid));
    if (e.excluded) {
      out.push(0);
      continue;
    }
    for (const d of e.devices) out.push(d.id, d.raw >> 8, d.raw & 0xff);
    out.push(...e.keyMaterial);
  }
  return new Uint8Array([...out, ...p.shared]);
}

/** Identity store wrapping only a private key (all sealedSenderDecryptToUsmc/Encrypt need). */
function keyOnlyStore(priv) {
  return new MemIdentityStore(priv, 1);
}

function writeKeyPair(prefix, priv) {
  writeFile(`${prefix}.priv`, priv.serialize());
  writeFile(`${prefix}.pub`, priv.getPublicKey().serialize());
  return { priv, pub: priv.getPublicKey(), privPath: wp(`${prefix}.priv`), pubPath: wp(`${prefix}.pub`) };
}

/** Expected `veil open` JSON for a decrypted message. */
function expectOpenJson(j, exp, context) {
  const d = new Diff(context);
  for (const k of ['version', 'sender_uuid', 'sender_e164', 'sender_device', 'type', 'content_hint', 'group_id', 'content', 'expires']) {
    d.ok(`missing key "${k}"`, Object.prototype.hasOwnProperty.call(j, k));
  }
  d.eq('version', j.version, exp.version);
  d.eq('sender_uuid', j.sender_uuid, exp.uuid);
  d.eq('sender_e164', j.sender_e164, exp.e164);
  d.eq('sender_device', j.sender_device, exp.device);
  d.eq('type', j.type, exp.type);
  d.eq('content_hint', j.content_hint, exp.hint);
  d.eq('group_id', j.group_id, exp.group == null || exp.group.length === 0 ? null : hex(exp.group));
  if (j.content !== b64(exp.content)) {
    const got = typeof j.content === 'string' ? Buffer.from(j.content, 'base64') : null;
    d.ok(
      'content',
      false,
      got && got.equals(Buffer.from(exp.content))
        ? `bytes match but base64 is not canonical padded standard base64: ${fmt(j.content)}`
        : `expected ${exp.content.length} B ${shortHex(exp.content, 24)}, got ${got ? `${got.length} B ${shortHex(got, 24)}` : fmt(j.content)}`,
    );
  }
  d.eq('expires', j.expires, exp.expires);
  d.check();
}

/** Checks a libsignal-decrypted USMC against expectations. */
function expectUsmc(usmc, exp, context) {
  const d = new Diff(context);
  d.eq('msgType', usmc.msgType(), TYPES[exp.type].ls);
  d.eq('contents', usmc.contents(), new Uint8Array(exp.content));
  d.eq('contentHint', usmc.contentHint(), exp.hint);
  const g = usmc.groupId();
  d.eq('groupId', g && g.length ? hex(g) : null, exp.group && exp.group.length ? hex(exp.group) : null);
  const cert = usmc.senderCertificate();
  if (exp.certBytes) d.eq('senderCertificate bytes', hex(cert.serialize()), hex(exp.certBytes));
  d.eq('cert senderUuid', cert.senderUuid(), exp.uuid);
  d.eq('cert senderE164', cert.senderE164(), exp.e164);
  d.eq('cert senderDeviceId', cert.senderDeviceId(), exp.device);
  d.eq('cert expiration', cert.expiration(), exp.expires);
  if (exp.senderPub) d.eq('cert identity key', cert.key().serialize(), exp.senderPub.serialize());
  if (exp.root) {
    d.ok('cert.validate(root, now) returned false', cert.validate(exp.root, NOW));
    d.ok('cert.validate(root, expires) returned false', cert.validate(exp.root, exp.expires));
    d.ok('cert.validate(root, expires+1) returned true', !cert.validate(exp.root, exp.expires + 1));
  }
  if (exp.canonical) {
    const want = usmcBytes({ type: exp.type, cert: cert.serialize(), content: exp.content, hint: exp.hint, group: exp.group });
    d.eq('USMC plaintext bytes (canonical libsignal encoding)', shortHex(usmc.serialize(), 40) + `/${usmc.serialize().length}B`,
      shortHex(want, 40) + `/${want.length}B`);
    if (!eqBytes(usmc.serialize(), want)) {
      const a = Buffer.from(usmc.serialize());
      let i = 0;
      while (i < a.length && i < want.length && a[i] === want[i]) i++;
      d.ok(`first USMC difference at byte ${i}: got ${hex(a.subarray(i, i + 8))}, expected ${hex(want.subarray(i, i + 8))}`, false);
    }
  }
  d.check();
}

// ---------------------------------------------------------------------------------------------
// Shared libsignal-made material ("L/...")
// ---------------------------------------------------------------------------------------------

const L = {};
await test('setup: libsignal trust roots, server certificate, sender certificates, recipient keys', async () => {
  L.root = writeKeyPair('L/root', SC.PrivateKey.generate());
  L.root2 = writeKeyPair('L/root2', SC.PrivateKey.generate()); // an unrelated trust root
  L.root3 = writeKeyPair('L/root3', SC.PrivateKey.generate());
  L.server = writeKeyPair('L/server', SC.PrivateKey.generate());
  L.serverId = 0x2a17c3; // 3-byte varint
  L.serverCert = SC.ServerCertificate.new(L.serverId, L.server.pub, L.root.priv);
  L.serverCertPath = writeFile('L/server.cert', L.serverCert.serialize());

  L.alice = writeKeyPair('L/alice', SC.PrivateKey.generate());
  L.aliceUuid = randomUUID();
  L.aliceE164 = '+14155550123';
  L.aliceDevice = 3;
  L.expires = NOW + 7 * DAY + 123; // ms, not a round number
  L.certA = SC.SenderCertificate.new(L.aliceUuid, L.aliceE164, L.aliceDevice, L.alice.pub, L.expires, L.serverCert, L.server.priv);
  L.certAPath = writeFile('L/alice.cert', L.certA.serialize());
  // second sender certificate: no e164, max device id
  L.certB = SC.SenderCertificate.new(L.aliceUuid, null, 127, L.alice.pub, L.expires, L.serverCert, L.server.priv);
  L.certBPath = writeFile('L/alice-noe164.cert', L.certB.serialize());

  L.bob = writeKeyPair('L/bob', SC.PrivateKey.generate());
  L.bobUuid = randomUUID();
  L.bobAddr = SC.ProtocolAddress.new(L.bobUuid, 1);
  L.aliceStore = keyOnlyStore(L.alice.priv);
  await L.aliceStore.saveIdentity(L.bobAddr, L.bob.pub);
  L.bobStore = keyOnlyStore(L.bob.priv);

  new Diff('libsignal self-check')
    .ok('certA does not validate in libsignal', L.certA.validate(L.root.pub, NOW))
    .eq('server cert key id', L.serverCert.keyId(), L.serverId)
    .check();
});

/** Builds a USMC by hand, lets libsignal parse it and seal it (v1) to bob. */
async function libsignalSealV1(c, store = L.aliceStore, addr = L.bobAddr) {
  const bytes = usmcBytes(c);
  const usmc = SC.UnidentifiedSenderMessageContent.deserialize(bytes);
  new Diff('libsignal USMC self-check')
    .eq('msgType', usmc.msgType(), TYPES[c.type].ls)
    .eq('contentHint', usmc.contentHint(), c.hint ?? 0)
    .check();
  const sealed = await SC.sealedSenderEncrypt(usmc, addr, store);
  if (sealed[0] !== 0x11) throw new Error(`libsignal v1 first byte 0x${sealed[0].toString(16)}`);
  return sealed;
}

// ---------------------------------------------------------------------------------------------
// 1. libsignal keys/certs/v1 messages -> veil open
// ---------------------------------------------------------------------------------------------

const v1Cases = [
  { type: 'prekey', hint: 0, group: null, content: randomBytes(1), cert: 'A' },
  { type: 'message', hint: 1, group: randomBytes(16), content: randomBytes(300), cert: 'A' },
  { type: 'senderkey', hint: 2, group: randomBytes(32), content: randomBytes(70_000), cert: 'A' },
  { type: 'plaintext', hint: 1, group: null, content: Buffer.concat([Buffer.from([0xc0]), randomBytes(40)]), cert: 'B' },
];
const v1Files = {}; // type -> path of libsignal-sealed v1 message

for (const [i, c] of v1Cases.entries()) {
  const desc = `${c.type}, hint ${c.hint}, ${c.group ? `${c.group.length} B group id` : 'no group id'}, ${c.content.length} B content, ${c.cert === 'A' ? 'cert with e164' : 'cert without e164, device 127'}`;
  await test(`1.${i + 1} libsignal v1 (${desc}) -> veil open`, async () => {
    need(L.certA, 'setup');
    const cert = c.cert === 'A' ? L.certA : L.certB;
    const sealed = await libsignalSealV1({ ...c, cert: cert.serialize() });
    const f = writeFile(`t1/${c.type}.v1`, sealed);
    v1Files[c.type] = f;
    const j = veilJson(['open', '--key', L.bob.privPath, '--root', L.root.pubPath, '-i', f]);
    expectOpenJson(j, {
      version: 1, uuid: L.aliceUuid, e164: c.cert === 'A' ? L.aliceE164 : null, device: c.cert === 'A' ? L.aliceDevice : 127,
      type: c.type, hint: c.hint, group: c.group, content: c.content, expires: L.expires,
    }, `veil open JSON`);
  });
}

await test('1.5 libsignal v1 with unknown content hint 9 -> veil open reports content_hint 9', async () => {
  need(L.certA, 'setup');
  const c = { type: 'message', hint: 9, group: null, content: randomBytes(20), cert: L.certA.serialize() };
  const f = writeFile('t1/hint9.v1', await libsignalSealV1(c));
  const j = veilJson(['open', '--key', L.bob.privPath, '--root', L.root.pubPath, '-i', f]);
  expectOpenJson(j, { version: 1, uuid: L.aliceUuid, e164: L.aliceE164, device: L.aliceDevice, type: 'message', hint: 9, group: null, content: c.content, expires: L.expires }, 'veil open JSON');
});

await test('1.6 libsignal sealedSenderEncryptMessage (real PreKey message) -> veil open; content decrypts with libsignal signalDecryptPreKey', async () => {
  need(L.certA, 'setup');
  const alice = new Party({ name: L.aliceUuid, deviceId: L.aliceDevice, registrationId: 4321, identityKey: L.alice.priv });
  const bob = new Party({ name: L.bobUuid, deviceId: 1, registrationId: 1234, identityKey: L.bob.priv });
  await alice.startSessionWith(bob);
  const ptext = Buffer.from('the quick brown fox, sealed by libsignal');
  const sealed = await SC.sealedSenderEncryptMessage(ptext, bob.address, L.certA, alice.sessionStore, alice.identityStore);
  const f = writeFile('t1/real-prekey.v1', sealed);
  const j = veilJson(['open', '--key', L.bob.privPath, '--root', L.root.pubPath, '-i', f]);
  const usmc = await SC.sealedSenderDecryptToUsmc(sealed, L.bobStore);
  expectOpenJson(j, { version: 1, uuid: L.aliceUuid, e164: L.aliceE164, device: L.aliceDevice, type: 'prekey', hint: 0, group: null, content: usmc.contents(), expires: L.expires }, 'veil open JSON');
  const inner = SC.PreKeySignalMessage.deserialize(new Uint8Array(Buffer.from(j.content, 'base64')));
  const out = await SC.signalDecryptPreKey(inner, alice.address, bob.address, bob.sessionStore, bob.identityStore,
    bob.preKeyStore, bob.signedPreKeyStore, bob.kyberPreKeyStore);
  new Diff('inner plaintext').eq('plaintext', hex(out), hex(ptext)).check();
});

// ---------------------------------------------------------------------------------------------
// 2. veil keys/certs/v1 seal -> libsignal
// ---------------------------------------------------------------------------------------------

const V = {};
await test('2.1 veil keygen writes raw 32 B private / 33 B public keys that libsignal accepts', async () => {
  const d = new Diff();
  for (const name of ['root', 'root2', 'server', 'alice', 'bob']) {
    const prefix = wp(`V/${name}`);
    veilOk(['keygen', prefix]);
    const priv = readProduced(`${prefix}.priv`);
    const pub = readProduced(`${prefix}.pub`);
    d.eq(`${name}.priv length`, priv.length, 32);
    d.eq(`${name}.pub length`, pub.length, 33);
    d.eq(`${name}.pub[0]`, pub[0], 5);
    if (priv.length !== 32 || pub.length !== 33) continue;
    const lsPriv = SC.PrivateKey.deserialize(priv);
    const lsPub = SC.PublicKey.deserialize(pub);
    d.eq(`${name}.pub vs libsignal public key of ${name}.priv`, lsPriv.getPublicKey().serialize(), pub);
    V[name] = { priv: lsPriv, pub: lsPub, privPath: `${prefix}.priv`, pubPath: `${prefix}.pub` };
  }
  if (V.root && V.root2) d.ok('two keygen runs produced the same key', !eqBytes(V.root.pub.serialize(), V.root2.pub.serialize()));
  if (V.alice) {
    const msg = Buffer.from('veil key check');
    d.ok('libsignal signature with veil private key does not verify', V.alice.pub.verify(msg, V.alice.priv.sign(msg)));
  }
  d.check();
});

await test('2.2 veil cert-server -> libsignal ServerCertificate (fields, trust-root signature, canonical inner bytes)', async () => {
  need(V.root && V.server, 'veil keygen');
  V.serverId = 0xbeef01;
  V.serverCertPath = wp('V/server.cert');
  veilOk(['cert-server', '--root', V.root.privPath, '--id', String(V.serverId), '--key', V.server.pubPath, '-o', V.serverCertPath]);
  const bytes = readProduced(V.serverCertPath);
  const sc = SC.ServerCertificate.deserialize(bytes);
  const ref = SC.ServerCertificate.new(V.serverId, V.server.pub, V.root.priv);
  new Diff('server certificate')
    .eq('keyId', sc.keyId(), V.serverId)
    .eq('key', sc.key().serialize(), V.server.pub.serialize())
    .ok('root signature over certificate bytes does not verify', V.root.pub.verify(sc.certificateData(), sc.signature()))
    .eq('inner certificate bytes vs libsignal ServerCertificate.new', sc.certificateData(), ref.certificateData())
    .eq('serialized length vs libsignal', bytes.length, ref.serialize().length)
    .eq('serialize() round trip', sc.serialize(), bytes)
    .check();
  V.serverCert = sc;
});

for (const variant of [
  { n: '2.3a', name: 'with e164', e164: '+4915112345678', device: 5, file: 'alice.cert' },
  { n: '2.3b', name: 'without e164, device 127', e164: null, device: 127, file: 'alice-noe164.cert' },
]) {
  await test(`${variant.n} veil cert-sender (${variant.name}) -> libsignal SenderCertificate fields, validate(now/expires/expires+1), canonical inner bytes`, async () => {
    need(V.serverCert, 'veil cert-server');
    V.aliceUuid ??= randomUUID();
    V.expires ??= NOW + 30 * DAY + 456;
    const out = wp(`V/${variant.file}`);
    const args = ['cert-sender', '--signer', V.serverCertPath, '--signer-key', V.server.privPath, '--uuid', V.aliceUuid];
    if (variant.e164) args.push('--e164', variant.e164);
    args.push('--device', String(variant.device), '--identity', V.alice.pubPath, '--expires', String(V.expires), '-o', out);
    veilOk(args);
    const bytes = readProduced(out);
    const cert = SC.SenderCertificate.deserialize(bytes);
    const ref = SC.SenderCertificate.new(V.aliceUuid, variant.e164, variant.device, V.alice.pub, V.expires, V.serverCert, V.server.priv);
    new Diff('sender certificate')
      .eq('senderUuid', cert.senderUuid(), V.aliceUuid)
      .eq('senderE164', cert.senderE164(), variant.e164)
      .eq('senderDeviceId', cert.senderDeviceId(), variant.device)
      .eq('expiration', cert.expiration(), V.expires)
      .eq('identity key', cert.key().serialize(), V.alice.pub.serialize())
      .eq('embedded server certificate', cert.serverCertificate().serialize(), readFile(V.serverCertPath))
      .ok('server signature over certificate bytes does not verify', V.server.pub.verify(cert.certificate(), cert.signature()))
      .ok('validate(root, now) is false', cert.validate(V.root.pub, NOW))
      .ok('validate(root, expires) is false', cert.validate(V.root.pub, V.expires))
      .ok('validate(root, expires+1) is true', !cert.validate(V.root.pub, V.expires + 1))
      .ok('validate(other root, now) is true', !cert.validate(V.root2.pub, NOW))
      .ok('validateWithTrustRoots([other, root], now) is false', cert.validateWithTrustRoots([V.root2.pub, V.root.pub], NOW))
      .eq('inner certificate bytes vs libsignal SenderCertificate.new', shortHex(cert.certificate(), 400), shortHex(ref.certificate(), 400))
      .check();
    if (variant.e164) {
      V.cert = cert;
      V.certPath = out;
      V.e164 = variant.e164;
      V.device = variant.device;
    }
  });
}

const vSealCases = [
  { type: 'prekey', hint: 1, group: randomBytes(32), content: randomBytes(64) },
  { type: 'message', hint: 2, group: null, content: randomBytes(1) },
  { type: 'senderkey', hint: 0, group: randomBytes(16), content: randomBytes(5000) },
  { type: 'plaintext', hint: 0, group: null, content: Buffer.concat([Buffer.from([0xc0]), randomBytes(30)]) },
];
const vSealed = {};
for (const [i, c] of vSealCases.entries()) {
  await test(`2.4${'abcd'[i]} veil seal --type ${c.type} (hint ${c.hint}, ${c.group ? 'group' : 'no group'}, ${c.content.length} B) -> libsignal sealedSenderDecryptToUsmc`, async () => {
    need(V.cert, 'veil cert-sender');
    const inF = writeFile(`t2/${c.type}.in`, c.content);
    const outF = wp(`t2/${c.type}.v1`);
    const args = ['seal', '--cert', V.certPath, '--key', V.alice.privPath, '--to', V.bob.pubPath, '--type', c.type, '--hint', String(c.hint)];
    if (c.group) args.push('--group', hex(c.group));
    veilOk([...args, '-i', inF, '-o', outF]);
    const sealed = readProduced(outF);
    if (sealed[0] !== 0x11) throw new Error(`first byte: expected 0x11, got 0x${sealed[0]?.toString(16)} (${sealed.length} B)`);
    vSealed[c.type] = outF;
    const usmc = await SC.sealedSenderDecryptToUsmc(sealed, keyOnlyStore(V.bob.priv));
    expectUsmc(usmc, {
      ...c, uuid: V.aliceUuid, e164: V.e164, device: V.device, expires: V.expires, certBytes: readFile(V.certPath),
      senderPub: V.alice.pub, root: V.root.pub, canonical: true,
    }, 'decrypted USMC');
  });
}

await test('2.5 veil seal with defaults (no --type/--hint/--group) -> libsignal sees Whisper, hint 0, no group', async () => {
  need(V.cert, 'veil cert-sender');
  const content = randomBytes(200);
  const inF = writeFile('t2/default.in', content);
  const outF = wp('t2/default.v1');
  veilOk(['seal', '--cert', V.certPath, '--key', V.alice.privPath, '--to', V.bob.pubPath, '-i', inF, '-o', outF]);
  const usmc = await SC.sealedSenderDecryptToUsmc(readProduced(outF), keyOnlyStore(V.bob.priv));
  expectUsmc(usmc, {
    type: 'message', hint: 0, group: null, content, uuid: V.aliceUuid, e164: V.e164, device: V.device,
    expires: V.expires, certBytes: readFile(V.certPath), senderPub: V.alice.pub, root: V.root.pub, canonical: true,
  }, 'decrypted USMC');
});

await test('2.6 veil seal of a real libsignal PreKey message -> libsignal sealedSenderDecryptMessage (full path: chain, self-send, ratchet)', async () => {
  need(V.cert, 'veil cert-sender');
  const alice = new Party({ name: V.aliceUuid, deviceId: V.device, registrationId: 77, identityKey: V.alice.priv });
  const bobUuid = randomUUID();
  const bob = new Party({ name: bobUuid, deviceId: 2, registrationId: 88, identityKey: V.bob.priv });
  await alice.startSessionWith(bob);
  const ptext = Buffer.from('jumps over the lazy dog, sealed by veil');
  const ct = await SC.signalEncrypt(ptext, bob.address, alice.address, alice.sessionStore, alice.identityStore);
  if (ct.type() !== SC.CiphertextMessageType.PreKey) throw new Error(`libsignal produced type ${ct.type()}, expected PreKey`);
  const inF = writeFile('t2/real-prekey.in', ct.serialize());
  const outF = wp('t2/real-prekey.v1');
  veilOk(['seal', '--cert', V.certPath, '--key', V.alice.privPath, '--to', V.bob.pubPath, '--type', 'prekey', '-i', inF, '-o', outF]);
  const res = await SC.sealedSenderDecryptMessage(readProduced(outF), V.root.pub, NOW, null, bobUuid, 2,
    bob.sessionStore, bob.identityStore, bob.preKeyStore, bob.signedPreKeyStore, bob.kyberPreKeyStore);
  new Diff('sealedSenderDecryptMessage result')
    .eq('message', hex(res.message()), hex(ptext))
    .eq('senderUuid', res.senderUuid(), V.aliceUuid)
    .eq('senderE164', res.senderE164(), V.e164)
    .eq('deviceId', res.deviceId(), V.device)
    .check();
});

await test('2.7 veil seal -> veil open round trip', async () => {
  const f = need(vSealed.prekey, 'veil seal --type prekey');
  const c = vSealCases[0];
  const j = veilJson(['open', '--key', V.bob.privPath, '--root', V.root.pubPath, '-i', f]);
  expectOpenJson(j, { version: 1, uuid: V.aliceUuid, e164: V.e164, device: V.device, type: c.type, hint: c.hint, group: c.group, content: c.content, expires: V.expires }, 'veil open JSON');
});

// ---------------------------------------------------------------------------------------------
// 3. certificate validation in veil open (libsignal-issued certificates)
// ---------------------------------------------------------------------------------------------

const openArgs = (f, extra = []) => ['open', '--key', L.bob.privPath, ...extra, '-i', f];

await test('3.1 veil open --now expires succeeds (expiry is inclusive)', async () => {
  const f = need(v1Files.message, 'test 1.2 message');
  const j = veilJson(openArgs(f, ['--root', L.root.pubPath, '--now', String(L.expires)]));
  new Diff().eq('sender_uuid', j.sender_uuid, L.aliceUuid).eq('expires', j.expires, L.expires).check();
});

await test('3.2 veil open --now expires+1 fails', async () => {
  const f = need(v1Files.message, 'test 1.2 message');
  veilFails(openArgs(f, ['--root', L.root.pubPath, '--now', String(L.expires + 1)]));
});

await test('3.3 veil open with the wrong --root fails', async () => {
  const f = need(v1Files.message, 'test 1.2 message');
  veilFails(openArgs(f, ['--root', L.root2.pubPath]));
});

await test('3.4 veil open with several --root values, only the second right, succeeds', async () => {
  const f = need(v1Files.message, 'test 1.2 message');
  const j = veilJson(openArgs(f, ['--root', L.root2.pubPath, '--root', L.root.pubPath, '--root', L.root3.pubPath]));
  new Diff().eq('sender_uuid', j.sender_uuid, L.aliceUuid).check();
});

await test('3.5 veil open --self <sender uuid>:<sender device> fails (self-send)', async () => {
  const f = need(v1Files.message, 'test 1.2 message');
  veilFails(openArgs(f, ['--root', L.root.pubPath, '--self', `${L.aliceUuid}:${L.aliceDevice}`]));
});

await test('3.6 veil open --self <sender uuid>:<other device> succeeds', async () => {
  const f = need(v1Files.message, 'test 1.2 message');
  const j = veilJson(openArgs(f, ['--root', L.root.pubPath, '--self', `${L.aliceUuid}:${L.aliceDevice + 1}`]));
  new Diff().eq('sender_device', j.sender_device, L.aliceDevice).check();
});

await test('3.7 veil open --self <other uuid>:<sender device> succeeds', async () => {
  const f = need(v1Files.message, 'test 1.2 message');
  veilJson(openArgs(f, ['--root', L.root.pubPath, '--self', `${randomUUID()}:${L.aliceDevice}`]));
});

await test('3.8 veil open of a tampered v1 message fails (one bit flipped in each region)', async () => {
  const f = need(v1Files.message, 'test 1.2 message');
  const orig = readFile(f);
  // 0x11 | 0a 21 <E> | 12 2b <encStatic 43> | 1a <len> <encMessage>
  const spots = { 'ephemeral key': 3 + 10, 'encrypted static': 2 + 33 + 2 + 5, 'encrypted message': orig.length - 20, 'message MAC': orig.length - 1 };
  const d = new Diff();
  for (const [what, at] of Object.entries(spots)) {
    const t = new Uint8Array(orig);
    t[at] ^= 0x01;
    const tf = writeFile(`t3/tampered-${at}.v1`, t);
    const r = runVeil(openArgs(tf, ['--root', L.root.pubPath]));
    d.ok(`tampered ${what} (byte ${at}) accepted by veil open`, r.code !== 0, short(r.stdout, 120));
    if (r.code !== 0) failureStderrs.push({ shown: r.shown, stderr: r.stderr });
  }
  d.check();
});

await test('3.9 veil open with the wrong recipient key fails', async () => {
  const f = need(v1Files.message, 'test 1.2 message');
  veilFails(['open', '--key', L.alice.privPath, '--root', L.root.pubPath, '-i', f]);
});

await test('3.10 veil open without --now rejects a certificate that expired a second ago', async () => {
  need(L.certA, 'setup');
  const exp = Date.now() - 1000;
  const cert = SC.SenderCertificate.new(L.aliceUuid, L.aliceE164, L.aliceDevice, L.alice.pub, exp, L.serverCert, L.server.priv);
  const f = writeFile('t3/expired.v1', await libsignalSealV1({ type: 'message', content: randomBytes(10), cert: cert.serialize() }));
  veilFails(openArgs(f, ['--root', L.root.pubPath]));
  // and the same message is fine at a time before expiry
  const j = veilJson(openArgs(f, ['--root', L.root.pubPath, '--now', String(exp - 5000)]));
  new Diff().eq('expires', j.expires, exp).check();
});

await test('3.11 veil open rejects a server certificate with the revoked key id 0xDEADC357', async () => {
  need(L.certA, 'setup');
  const sc = SC.ServerCertificate.new(0xdeadc357, L.server.pub, L.root.priv);
  const cert = SC.SenderCertificate.new(L.aliceUuid, null, 1, L.alice.pub, L.expires, sc, L.server.priv);
  if (cert.validate(L.root.pub, NOW)) throw new Error('libsignal self-check: revoked certificate validated');
  const f = writeFile('t3/revoked.v1', await libsignalSealV1({ type: 'message', content: randomBytes(10), cert: cert.serialize() }));
  veilFails(openArgs(f, ['--root', L.root.pubPath]));
});

await test('3.12 veil open accepts a Signal-Server style certificate (uuidBytes field 7) and prints a hyphenated uuid', async () => {
  need(L.certA, 'setup');
  const uuid = randomUUID();
  const exp8 = Buffer.alloc(8);
  exp8.writeBigUInt64LE(BigInt(L.expires));
  // server order: 7 (uuidBytes), 2, 3, 4, 5 -- not field-number order, as parsers must accept any order
  const inner = new Uint8Array([
    ...pbBytes(7, uuidBytes(uuid)), ...pbVarint(2, 9), 0x19, ...exp8,
    ...pbBytes(4, L.alice.pub.serialize()), ...pbBytes(5, L.serverCert.serialize()),
  ]);
  const certBytes = new Uint8Array([...pbBytes(1, inner), ...pbBytes(2, L.server.priv.sign(inner))]);
  const cert = SC.SenderCertificate.deserialize(certBytes);
  new Diff('libsignal self-check').eq('senderUuid', cert.senderUuid(), uuid).ok('validate', cert.validate(L.root.pub, NOW)).check();
  const content = randomBytes(33);
  const f = writeFile('t3/uuidbytes.v1', await libsignalSealV1({ type: 'message', content, cert: certBytes }));
  const j = veilJson(openArgs(f, ['--root', L.root.pubPath]));
  expectOpenJson(j, { version: 1, uuid, e164: null, device: 9, type: 'message', hint: 0, group: null, content, expires: L.expires }, 'veil open JSON');
});

await test('3.13 veil reports each failure as a single non-empty line on stderr', async () => {
  if (failureStderrs.length === 0) throw new Error('prerequisite failed: no expected-failure runs were recorded');
  const bad = failureStderrs.filter(({ stderr }) => {
    const t = stderr.trim();
    return t.length === 0 || t.includes('\n');
  });
  if (bad.length) {
    throw new Error(bad.map(({ shown, stderr }) => `\`${shown}\` stderr=${fmt(stderr)}`).join('; '));
  }
});

// ---------------------------------------------------------------------------------------------
// 4. libsignal SSv2 -> veil fanout -> libsignal / veil open
// ---------------------------------------------------------------------------------------------

/** Recipients used in tests 4 and 5: multi-device ACI, PNI, device 127 / max registration id. */
function makeRecipients(prefix) {
  const mk = (label, sid, devices) => {
    const kp = writeKeyPair(`${prefix}/${label}`, SC.PrivateKey.generate());
    return { label, sid, devices, ...kp };
  };
  return [
    mk('bob', randomUUID(), [{ id: 1, registration_id: 0x1234 }, { id: 3, registration_id: 0x3fff }]),
    mk('carol', `PNI:${randomUUID()}`, [{ id: 1, registration_id: 42 }]),
    mk('dave', randomUUID(), [{ id: 127, registration_id: 1 }]),
  ];
}

function checkRecipientMap(m, recips, excluded, context) {
  const d = new Diff(context);
  const map = m.recipientsByServiceIdString();
  d.eq('recipient service ids', Object.keys(map).sort().join(','), recips.map((r) => r.sid).sort().join(','));
  for (const r of recips) {
    const got = map[r.sid];
    if (!got) continue;
    d.eq(`${r.sid} deviceIds`, JSON.stringify(got.deviceIds), JSON.stringify(r.devices.map((x) => x.id)));
    d.eq(`${r.sid} registrationIds`, JSON.stringify(got.registrationIds), JSON.stringify(r.devices.map((x) => x.registration_id)));
  }
  d.eq('excluded service ids', [...m.excludedRecipientServiceIdStrings()].sort().join(','), [...excluded].sort().join(','));
  d.check();
  return map;
}

/** Runs veil fanout and checks the summary and the files against libsignal's own fan-out. */
function checkFanout(sentPath, sentBytes, recips, excluded, outDir) {
  const summary = veilJson(['fanout', '-i', sentPath, '-o', outDir]);
  const d = new Diff('veil fanout');
  // summary
  if (!Array.isArray(summary.recipients)) {
    d.ok(`summary.recipients is not an array: ${short(JSON.stringify(summary), 200)}`, false);
  } else {
    const byId = new Map(summary.recipients.map((r) => [r.service_id, r]));
    d.eq('summary recipient service ids', [...byId.keys()].sort().join(','), recips.map((r) => r.sid).sort().join(','));
    d.eq('summary recipient count', summary.recipients.length, recips.length);
    for (const r of recips) {
      const got = byId.get(r.sid);
      if (!got) continue;
      const norm = (devs) => JSON.stringify((devs ?? []).map((x) => ({ id: x.id, registration_id: x.registration_id })));
      d.eq(`summary ${r.sid} devices`, norm(got.devices), norm(r.devices));
    }
  }
  d.eq('summary excluded', Array.isArray(summary.excluded) ? [...summary.excluded].sort().join(',') : fmt(summary.excluded),
    [...excluded].sort().join(','));
  // files
  const files = fs.existsSync(outDir) ? fs.readdirSync(outDir).sort() : [];
  d.eq('files written', files.join(','), recips.map((r) => `${r.sid}.bin`).sort().join(','));
  const m = new SSMRM(sentBytes);
  const map = m.recipientsByServiceIdString();
  const received = {};
  for (const r of recips) {
    const p = path.join(outDir, `${r.sid}.bin`);
    if (!fs.existsSync(p)) continue;
    const got = readFile(p);
    received[r.sid] = p;
    const want = map[r.sid] ? m.messageForRecipient(map[r.sid]) : null;
    if (!want) {
      d.ok(`libsignal has no recipient ${r.sid}`, false);
    } else if (!eqBytes(got, want)) {
      let i = 0;
      while (i < got.length && i < want.length && got[i] === want[i]) i++;
      d.ok(`${r.sid}.bin differs from libsignal messageForRecipient`, false,
        `${got.length} B vs ${want.length} B, first difference at byte ${i}: got ${hex(got.subarray(i, i + 8))}, expected ${hex(want.subarray(i, i + 8))}`);
    }
  }
  d.check();
  return received;
}

const T4 = {};
await test('4.1 setup: libsignal sessions with 3 recipients (2-device ACI, PNI, device 127) and sealedSenderMultiRecipientEncrypt with 2 excluded', async () => {
  need(L.certA, 'setup');
  const alice = new Party({ name: L.aliceUuid, deviceId: L.aliceDevice, registrationId: 555, identityKey: L.alice.priv });
  const recips = makeRecipients('t4');
  const addrs = [];
  for (const r of recips) {
    for (const dev of r.devices) {
      const p = new Party({ name: r.sid, deviceId: dev.id, registrationId: dev.registration_id, identityKey: r.priv });
      await alice.startSessionWith(p);
      addrs.push(p.address);
    }
  }
  const excluded = [randomUUID(), `PNI:${randomUUID()}`];
  const excludedIds = excluded.map((s) => (s.startsWith('PNI:') ? SC.Pni.fromUuid(s.slice(4)) : SC.Aci.fromUuid(s)));
  const c = { type: 'senderkey', hint: 1, group: randomBytes(32), content: randomBytes(500) };
  const usmc = SC.UnidentifiedSenderMessageContent.deserialize(usmcBytes({ ...c, cert: L.certA.serialize() }));
  const sent = await SC.sealedSenderMultiRecipientEncrypt({
    content: usmc, recipients: addrs, excludedRecipients: excludedIds,
    identityStore: alice.identityStore, sessionStore: alice.sessionStore,
  });
  if (sent[0] !== 0x23) throw new Error(`libsignal SentMessage version 0x${sent[0].toString(16)}`);
  checkRecipientMap(new SSMRM(sent), recips, excluded, 'libsignal self-check');
  Object.assign(T4, { alice, recips, excluded, c, sent, sentPath: writeFile('t4/sent.bin', sent) });
});

await test('4.2 veil fanout of libsignal SentMessage: summary (devices, registration ids, excluded) and files byte-identical to libsignal messageForRecipient', async () => {
  need(T4.sent, 'test 4.1');
  T4.received = checkFanout(T4.sentPath, T4.sent, T4.recips, T4.excluded, wp('t4/out'));
});

await test('4.3 each veil-fanned-out file decrypts with libsignal sealedSenderDecryptToUsmc (recipient identity key)', async () => {
  need(T4.received, 'test 4.2');
  for (const r of T4.recips) {
    const f = need(T4.received[r.sid], `${r.sid}.bin from veil fanout`);
    const bytes = readFile(f);
    if (bytes[0] !== 0x22) throw new Error(`${r.sid}.bin first byte 0x${bytes[0].toString(16)}, expected 0x22`);
    const usmc = await SC.sealedSenderDecryptToUsmc(bytes, keyOnlyStore(r.priv));
    expectUsmc(usmc, { ...T4.c, uuid: L.aliceUuid, e164: L.aliceE164, device: L.aliceDevice, expires: L.expires, certBytes: L.certA.serialize(), root: L.root.pub }, `${r.label} (${r.sid})`);
  }
});

await test('4.4 veil open on each received (0x22) file with that recipient\'s key gives version 2 and the right fields', async () => {
  need(T4.received, 'test 4.2');
  for (const r of T4.recips) {
    const f = need(T4.received[r.sid], `${r.sid}.bin from veil fanout`);
    const j = veilJson(['open', '--key', r.privPath, '--root', L.root.pubPath, '-i', f]);
    expectOpenJson(j, { version: 2, uuid: L.aliceUuid, e164: L.aliceE164, device: L.aliceDevice, type: T4.c.type, hint: T4.c.hint, group: T4.c.group, content: T4.c.content, expires: L.expires }, `${r.label}: veil open JSON`);
  }
});

await test('4.5 veil open of libsignal\'s own messageForRecipient output (independent of veil fanout)', async () => {
  need(T4.sent, 'test 4.1');
  const m = new SSMRM(T4.sent);
  const r = T4.recips[1]; // the PNI recipient
  const f = writeFile('t4/libsignal-carol.bin', m.messageForRecipient(m.recipientsByServiceIdString()[r.sid]));
  const j = veilJson(['open', '--key', r.privPath, '--root', L.root.pubPath, '-i', f]);
  expectOpenJson(j, { version: 2, uuid: L.aliceUuid, e164: L.aliceE164, device: L.aliceDevice, type: T4.c.type, hint: T4.c.hint, group: T4.c.group, content: T4.c.content, expires: L.expires }, 'veil open JSON');
});

await test('4.6 veil open of a v2 received message fails with another recipient\'s key, an expired --now, or a tampered byte', async () => {
  need(T4.received, 'test 4.2');
  const [bob, carol] = T4.recips;
  const f = need(T4.received[bob.sid], 'bob file');
  const d = new Diff();
  let r = runVeil(['open', '--key', carol.privPath, '--root', L.root.pubPath, '-i', f]);
  d.ok('opened with the wrong recipient key', r.code !== 0, short(r.stdout, 100));
  r = runVeil(['open', '--key', bob.privPath, '--root', L.root.pubPath, '--now', String(L.expires + 1), '-i', f]);
  d.ok('opened with --now expires+1', r.code !== 0, short(r.stdout, 100));
  const orig = readFile(f);
  // 0x22 | C 32 | AT 16 | E 32 | ciphertext
  for (const [what, at] of [['C', 5], ['AT', 40], ['E', 60], ['ciphertext', orig.length - 30], ['tag', orig.length - 1]]) {
    const t = new Uint8Array(orig);
    t[at] ^= 0x80;
    const tf = writeFile(`t4/tampered-${what}.bin`, t);
    r = runVeil(['open', '--key', bob.privPath, '--root', L.root.pubPath, '-i', tf]);
    d.ok(`tampered ${what} (byte ${at}) accepted`, r.code !== 0, short(r.stdout, 100));
  }
  d.check();
});

await test('4.7 veil fanout accepts the legacy 0x22 SentMessage form (16-byte ACI uuids) and produces the same received messages', async () => {
  need(T4.alice, 'test 4.1');
  const alice = T4.alice;
  const recips = [T4.recips[0], T4.recips[2]]; // ACI only
  const addrs = recips.flatMap((r) => r.devices.map((d) => SC.ProtocolAddress.new(r.sid, d.id)));
  const excluded = [randomUUID()];
  const c = { type: 'message', hint: 0, group: null, content: randomBytes(77) };
  const usmc = SC.UnidentifiedSenderMessageContent.deserialize(usmcBytes({ ...c, cert: L.certA.serialize() }));
  const sent = await SC.sealedSenderMultiRecipientEncrypt({
    content: usmc, recipients: addrs, excludedRecipients: excluded.map((u) => SC.Aci.fromUuid(u)),
    identityStore: alice.identityStore, sessionStore: alice.sessionStore,
  });
  const legacy = toLegacySent(sent);
  checkRecipientMap(new SSMRM(legacy), recips, excluded, 'libsignal self-check of legacy form');
  const p = writeFile('t4/legacy-sent.bin', legacy);
  const received = checkFanout(p, legacy, recips, excluded, wp('t4/legacy-out'));
  for (const r of recips) {
    const u = await SC.sealedSenderDecryptToUsmc(readFile(received[r.sid]), keyOnlyStore(r.priv));
    expectUsmc(u, { ...c, uuid: L.aliceUuid, e164: L.aliceE164, device: L.aliceDevice, expires: L.expires }, r.label);
  }
});

await test('4.8 veil fanout rejects malformed SentMessages (version 0x24, truncated, device id 128)', async () => {
  need(T4.sent, 'test 4.1');
  const d = new Diff();
  const bad = {
    'version 0x24': (() => { const b = new Uint8Array(T4.sent); b[0] = 0x24; return b; })(),
    'truncated after recipients': (() => {
      const p = parseSent(T4.sent);
      return new Uint8Array(T4.sent).subarray(0, T4.sent.length - p.shared.length + 31);
    })(),
    'device id 128': (() => { const b = new Uint8Array(T4.sent); b[1 + 1 + 17] = 128; return b; })(),
  };
  for (const [what, bytes] of Object.entries(bad)) {
    const f = writeFile(`t4/bad-${what.replace(/\W+/g, '_')}.bin`, bytes);
    const r = runVeil(['fanout', '-i', f, '-o', wp(`t4/bad-out-${what.replace(/\W+/g, '_')}`)]);
    d.ok(`${what} accepted`, r.code !== 0, short(r.stdout, 100));
  }
  d.check();
});

// ---------------------------------------------------------------------------------------------
// 5. veil SSv2 (seal-multi) -> libsignal
// ---------------------------------------------------------------------------------------------

const T5 = {};
await test('5.1 veil seal-multi (3 recipients: 2-device ACI, PNI, device 127; 2 --exclude) -> libsignal SSMRM parses recipients, devices, registration ids, excluded', async () => {
  need(L.certA, 'setup');
  const recips = makeRecipients('t5');
  const excluded = [`PNI:${randomUUID()}`, randomUUID()];
  const recipientsJson = recips.map((r) => ({ service_id: r.sid, devices: r.devices, identity_key: r.pubPath }));
  const rj = writeFile('t5/recipients.json', Buffer.from(JSON.stringify(recipientsJson, null, 2)));
  const c = { type: 'message', hint: 2, group: randomBytes(32), content: randomBytes(1000) };
  const inF = writeFile('t5/content.in', c.content);
  const out = wp('t5/sent.bin');
  veilOk(['seal-multi', '--cert', L.certAPath, '--key', L.alice.privPath, '--recipients', rj,
    ...excluded.flatMap((e) => ['--exclude', e]), '--type', c.type, '--hint', String(c.hint), '--group', hex(c.group),
    '-i', inF, '-o', out]);
  const sent = readProduced(out);
  if (sent[0] !== 0x23) throw new Error(`first byte: expected 0x23, got 0x${sent[0]?.toString(16)}`);
  let m;
  try {
    m = new SSMRM(sent);
  } catch (e) {
    throw new Error(`libsignal cannot parse veil SentMessage (${sent.length} B, starts ${shortHex(sent, 24)}): ${e.message}`);
  }
  checkRecipientMap(m, recips, excluded, 'libsignal parse of veil SentMessage');
  Object.assign(T5, { recips, excluded, c, sent, sentPath: out, m });
});

await test('5.2 veil SentMessage layout: included entries then excluded (kind byte, 00 marker), E, ciphertext = USMC + 16', async () => {
  need(T5.sent, 'test 5.1');
  const p = parseSent(T5.sent);
  const d = new Diff('SentMessage layout');
  d.eq('count', p.count, T5.recips.length + T5.excluded.length);
  const firstExcluded = p.entries.findIndex((e) => e.excluded);
  d.ok('an included entry follows an excluded one', firstExcluded === -1 || p.entries.slice(firstExcluded).every((e) => e.excluded),
    p.entries.map((e) => (e.excluded ? 'X' : 'I')).join(''));
  for (const e of p.entries) {
    if (e.excluded) continue;
    d.ok(`${e.sid}: registration id field has bit 14 set`, e.devices.every((x) => !(x.raw & 0x4000)));
  }
  const r0 = T5.recips[0];
  const usmc = await SC.sealedSenderDecryptToUsmc(T5.m.messageForRecipient(T5.m.recipientsByServiceIdString()[r0.sid]), keyOnlyStore(r0.priv));
  d.eq('ciphertext length (USMC + 16)', p.ciphertext.length, usmc.serialize().length + 16);
  d.check();
});

await test('5.3 each recipient: libsignal messageForRecipient -> sealedSenderDecryptToUsmc gives the content; cert validates; canonical USMC', async () => {
  need(T5.m, 'test 5.1');
  const map = T5.m.recipientsByServiceIdString();
  for (const r of T5.recips) {
    const usmc = await SC.sealedSenderDecryptToUsmc(T5.m.messageForRecipient(map[r.sid]), keyOnlyStore(r.priv));
    expectUsmc(usmc, { ...T5.c, uuid: L.aliceUuid, e164: L.aliceE164, device: L.aliceDevice, expires: L.expires, certBytes: L.certA.serialize(), senderPub: L.alice.pub, root: L.root.pub, canonical: true }, `${r.label} (${r.sid})`);
  }
});

await test('5.4 veil fanout of veil\'s own SentMessage: summary and files match libsignal; files decrypt with libsignal', async () => {
  need(T5.sent, 'test 5.1');
  const received = checkFanout(T5.sentPath, T5.sent, T5.recips, T5.excluded, wp('t5/out'));
  for (const r of T5.recips) {
    const usmc = await SC.sealedSenderDecryptToUsmc(readFile(received[r.sid]), keyOnlyStore(r.priv));
    expectUsmc(usmc, { ...T5.c, uuid: L.aliceUuid, e164: L.aliceE164, device: L.aliceDevice, expires: L.expires }, r.label);
  }
  T5.received = received;
});

await test('5.5 veil open of veil-fanned-out received messages', async () => {
  need(T5.received, 'test 5.4');
  for (const r of T5.recips) {
    const j = veilJson(['open', '--key', r.privPath, '--root', L.root.pubPath, '--self', `${r.sid.replace(/^PNI:/, '')}:1`, '-i', T5.received[r.sid]]);
    expectOpenJson(j, { version: 2, uuid: L.aliceUuid, e164: L.aliceE164, device: L.aliceDevice, type: T5.c.type, hint: T5.c.hint, group: T5.c.group, content: T5.c.content, expires: L.expires }, `${r.label}: veil open JSON`);
  }
});

await test('5.6 veil seal-multi with defaults, one recipient, no exclusions -> libsignal sealedSenderMultiRecipientMessageForSingleRecipient decrypts', async () => {
  need(L.certA, 'setup');
  const kp = writeKeyPair('t5/single', SC.PrivateKey.generate());
  const sid = randomUUID();
  const rj = writeFile('t5/single.json', Buffer.from(JSON.stringify([{ service_id: sid, devices: [{ id: 1, registration_id: 9999 }], identity_key: kp.pubPath }])));
  const content = randomBytes(10);
  const inF = writeFile('t5/single.in', content);
  const out = wp('t5/single-sent.bin');
  veilOk(['seal-multi', '--cert', L.certBPath, '--key', L.alice.privPath, '--recipients', rj, '-i', inF, '-o', out]);
  const sent = readProduced(out);
  const d = new Diff();
  d.eq('length (USMC + 118)', sent.length, usmcBytes({ type: 'message', cert: L.certB.serialize(), content }).length + 118);
  d.check();
  const rcv = SC.sealedSenderMultiRecipientMessageForSingleRecipient(sent);
  const usmc = await SC.sealedSenderDecryptToUsmc(rcv, keyOnlyStore(kp.priv));
  expectUsmc(usmc, { type: 'message', hint: 0, group: null, content, uuid: L.aliceUuid, e164: null, device: 127, expires: L.expires, root: L.root.pub, canonical: true }, 'decrypted USMC');
  checkRecipientMap(new SSMRM(sent), [{ sid, devices: [{ id: 1, registration_id: 9999 }] }], [], 'libsignal parse');
  T5.single = { sentPath: out, receivedPath: writeFile('t5/single-received.bin', rcv) };
});

// ---------------------------------------------------------------------------------------------
// 6. veil inspect
// ---------------------------------------------------------------------------------------------

await test('6.1 veil inspect prints JSON with a "kind" for keys, certificates, v1, v2 sent and v2 received messages', async () => {
  const objects = {
    'private key': L.bob?.privPath,
    'public key': L.bob?.pubPath,
    'server certificate': L.serverCertPath,
    'sender certificate': L.certAPath,
    'v1 message': v1Files.message,
    'v2 sent message (libsignal)': T4.sentPath,
    'v2 sent message (veil)': T5.sentPath,
    'v2 received message': T4.received ? Object.values(T4.received)[0] : T5.single?.receivedPath,
  };
  const d = new Diff();
  const kinds = [];
  for (const [what, f] of Object.entries(objects)) {
    if (!f) {
      d.ok(`no ${what} file available (earlier step failed)`, false);
      continue;
    }
    try {
      const j = veilJson(['inspect', f]);
      d.ok(`${what}: no string "kind" field in ${short(JSON.stringify(j), 150)}`, typeof j.kind === 'string' && j.kind.length > 0);
      kinds.push(`${what}=${j.kind}`);
    } catch (e) {
      d.ok(`${what}: ${e.message}`, false);
    }
  }
  console.log(`# inspect kinds: ${kinds.join(', ')}`);
  d.check();
});

// ---------------------------------------------------------------------------------------------

if (failed === 0 && !opts.keep && !opts.workdir) fs.rmSync(WORK, { recursive: true, force: true });
else console.log(`# files kept in ${WORK}`);
finish();
