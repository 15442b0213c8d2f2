// Independent reference of docs/packet-format.md (node's built-in crypto only); writes packet_layer_vectors.h.
// Regenerate from the repository root: node tests/unit/vectors/packet_layer_ref.mjs
// The output is deterministic. Two kinds of vectors:
//  - "cpp": packets that crypto::wrap_packet must reproduce byte for byte. This script replays
//    veil::SeededRng (SHA-256 of the u64 seed, zero-extended to 32 bytes, as a ChaCha20 key, one fresh 64-bit nonce per fill)
//    in the order wrap_packet draws (32 bytes per hop, then the fill), wraps with its own literal
//    reading of the spec, unwraps every layer again, and records each layer's input hash, replay tag,
//    command and next hop. Changing SeededRng or the draw order changes these vectors.
//  - "ref": packets wrapped here from fixed inputs (not SeededRng) that the C++ unwrap must accept
//    with the recorded results; stored in full.
// Wrap follows "Wrapping a path" literally (full keystreams, filler loop, one buffer per layer);
// unwrap follows "Unwrapping" literally. Every vector is unwrapped here before it is written.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const O = 80, R = 32, HEAD = 32, TAG = 16;
const CMD = { forward: 1, deliver: 2, drop: 3, loop: 4 };
const CMD_NAME = Object.fromEntries(Object.entries(CMD).map(([k, v]) => [v, k]));
const hex = (b) => Buffer.from(b).toString('hex');
const sha256 = (b) => crypto.createHash('sha256').update(b).digest();
const zeros = (n) => Buffer.alloc(n);
const assert = (ok, what) => { if (!ok) throw new Error(`check failed: ${what}`); };

// ---- primitives ---------------------------------------------------------------------------
const PKCS8_X25519 = Buffer.from('302e020100300506032b656e04220420', 'hex');
const SPKI_X25519 = Buffer.from('302a300506032b656e032100', 'hex');
const privKey = (raw) => crypto.createPrivateKey({ key: Buffer.concat([PKCS8_X25519, raw]), format: 'der', type: 'pkcs8' });
const pubKey = (raw) => crypto.createPublicKey({ key: Buffer.concat([SPKI_X25519, raw]), format: 'der', type: 'spki' });
const x25519Base = (priv) => crypto.createPublicKey(privKey(priv)).export({ format: 'der', type: 'spki' }).subarray(SPKI_X25519.length);
const x25519 = (priv, pub) => crypto.diffieHellman({ privateKey: privKey(priv), publicKey: pubKey(pub) });
const hkdf = (salt, ikm, info, L) => Buffer.from(crypto.hkdfSync('sha256', ikm, Buffer.from(salt), Buffer.from(info), L));
// ChaCha20-IETF keystream: node's iv is the 4-byte little-endian block counter || 12-byte nonce.
function chachaStream(key, counter, n) {
  const iv = zeros(16);
  iv.writeUInt32LE(counter, 0);
  const c = crypto.createCipheriv('chacha20', key, iv);
  return Buffer.concat([c.update(zeros(n)), c.final()]);
}
function aeadSeal(key, aad, m) {
  const c = crypto.createCipheriv('chacha20-poly1305', key, zeros(12), { authTagLength: 16 });
  c.setAAD(aad, { plaintextLength: m.length });
  const ct = Buffer.concat([c.update(m), c.final()]);
  return { ct, tag: c.getAuthTag() };
}
function aeadOpen(key, aad, ct, tag) {
  const d = crypto.createDecipheriv('chacha20-poly1305', key, zeros(12), { authTagLength: 16 });
  d.setAAD(aad, { plaintextLength: ct.length });
  d.setAuthTag(tag);
  try { return Buffer.concat([d.update(ct), d.final()]); } catch { return null; }
}
const xor = (a, b) => { const o = Buffer.alloc(a.length); for (let i = 0; i < a.length; ++i) o[i] = a[i] ^ b[i]; return o; };
const u32be = (v) => { const b = zeros(4); b.writeUInt32BE(v); return b; };
const u64be = (v) => { const b = zeros(8); b.writeBigUInt64BE(BigInt(v)); return b; };

// veil::SeededRng: key = SHA-256(seed as u64 little-endian || 24 zero bytes); fill #i is the original (64-bit nonce)
// ChaCha20 keystream under nonce = i (u64 little-endian), i.e. node iv = 8 zero bytes || nonce.
class SeededRng {
  constructor(seed) { const s = zeros(32); s.writeBigUInt64LE(BigInt(seed)); this.key = sha256(s); this.counter = 0n; }
  fill(n) {
    const iv = zeros(16);
    iv.writeBigUInt64LE(this.counter, 8);
    this.counter += 1n;
    const c = crypto.createCipheriv('chacha20', this.key, iv);
    return c.update(zeros(n));
  }
}

// ---- the spec -----------------------------------------------------------------------------
function pairwiseKey(s, S, T, epoch) {
  return hkdf('veil/pairwise/v1', Buffer.concat([x25519(s, T), S, T, u64be(epoch)]), 'key', 32);
}
function secrets(okm) {
  const k = okm.subarray(0, 32), padSeed = okm.subarray(32, 64), replay = okm.subarray(64, 80);
  return { k, pad: chachaStream(padSeed, 0, O), replay };
}
const onionOkm = (shared, E, X) => hkdf('veil/onion/v1', Buffer.concat([shared, E, X]), 'layer', 80);
const pairwiseOkm = (K, N) => hkdf('veil/pairwise/packet/v1', Buffer.concat([K, N]), 'layer', 80);
const routing = (cmd, nextHop) => Buffer.concat([Buffer.from([cmd]), nextHop ?? zeros(16), zeros(15)]);

// "Epochs": the top bit of a head is the parity of the hop's epoch; X25519 reads a head without it.
const withParity = (head, epoch) => { const h = Buffer.from(head); h[31] = (h[31] & 0x7f) | (Number(BigInt(epoch) & 1n) << 7); return h; };
const withoutParity = (head) => { const h = Buffer.from(head); h[31] &= 0x7f; return h; };

// hops: [{ pub, id, epoch, K? }]; draw(n) supplies randomness in wrap_packet's order.
function wrap(hops, finalCmd, payload, P, draw) {
  const n = hops.length;
  assert(n >= 1 && n * O + 4 <= P && payload.length <= P - n * O - 4, 'wrap arguments');
  const L = P - 48;
  const layers = hops.map((h, j) => {
    if (h.K) { assert(j === 0, 'pairwise first only'); const N = withParity(draw(32), h.epoch); return { head: N, ...secrets(pairwiseOkm(h.K, N)) }; }
    const e = draw(32);
    const E = x25519Base(e);
    assert((E[31] & 0x80) === 0, 'an X25519 public key has its top bit clear');
    const head = withParity(E, h.epoch);
    return { head, ...secrets(onionOkm(x25519(e, h.pub), head, h.pub)) };
  });
  for (const l of layers) l.ks = chachaStream(l.k, 1, L);
  // 2. innermost plaintext
  const fillLen = L - R - 4 - payload.length - (n - 1) * O;
  const Mn = Buffer.concat([routing(finalCmd), u32be(payload.length), payload, draw(fillLen), zeros((n - 1) * O)]);
  // 1. filler (1-based j, m as in the spec)
  for (let j = 1; j < n; ++j) {
    let buf = Buffer.from(layers[j - 1].pad);
    let p = P - O;
    for (let m = j + 1; m <= n; ++m) {
      const q = p - 48;
      buf = xor(buf, layers[m - 1].ks.subarray(q, q + O));
      if (m === n) buf.copy(Mn, q); else p = q - R;
    }
  }
  // 3. outward
  const seal = (l, M) => { const { ct, tag } = aeadSeal(l.k, l.head, M); assert(xor(M, l.ks).equals(ct), 'ks matches the AEAD'); return Buffer.concat([l.head, tag, ct]); };
  let packet = seal(layers[n - 1], Mn);
  for (let m = n - 1; m >= 1; --m) {
    const next = packet;
    packet = seal(layers[m - 1], Buffer.concat([routing(CMD.forward, hops[m].id), next.subarray(0, P - O)]));
    assert(next.subarray(P - O).equals(layers[m - 1].pad), 'packet_{m+1} ends with pad_m');
  }
  assert(packet.length === P, 'size');
  return packet;
}

// key: { priv, pub, epoch } (onion) or { K, epoch } (pairwise). Throws on anything but success.
function unwrap(packet, key) {
  const P = packet.length;
  assert(P >= 512 && P <= 65536, 'size');
  const head = packet.subarray(0, HEAD), tag = packet.subarray(HEAD, HEAD + TAG), C = packet.subarray(48);
  assert((head[31] >> 7) === Number(BigInt(key.epoch) & 1n), 'the head names the epoch of the key');
  const okm = key.K ? pairwiseOkm(key.K, head) : onionOkm(x25519(key.priv, withoutParity(head)), head, key.pub);
  const s = secrets(okm);
  const M = aeadOpen(s.k, head, C, tag);
  assert(M !== null, 'authentic');
  const cmd = M[0], nextHop = M.subarray(1, 17);
  assert(M.subarray(17, 32).equals(zeros(15)), 'reserved zero');
  const body = M.subarray(R);
  if (cmd === CMD.forward) return { cmd, nextHop, replay: s.replay, inner: Buffer.concat([body, s.pad]) };
  assert(cmd >= 2 && cmd <= 4 && nextHop.equals(zeros(16)), 'final routing');
  const len = body.readUInt32BE(0);
  assert(len <= P - O - 4, 'len');
  return { cmd, nextHop, replay: s.replay, inner: Buffer.from(body.subarray(4, 4 + len)) };
}

// Unwraps hop by hop; returns the per-layer records and checks the final payload.
function peel(packet, keys, hops, finalCmd, payload) {
  const layers = [];
  let cur = packet;
  keys.forEach((key, i) => {
    const u = unwrap(cur, key);
    const last = i === keys.length - 1;
    assert(u.cmd === (last ? finalCmd : CMD.forward), `command at hop ${i + 1}`);
    if (!last) assert(u.nextHop.equals(hops[i + 1].id) && u.inner.length === packet.length, 'forward');
    layers.push({ input_sha256: hex(sha256(cur)), replay: hex(u.replay), cmd: u.cmd, next_hop: hex(u.nextHop), epoch: key.epoch });
    cur = u.inner;
  });
  assert(cur.equals(payload), 'payload');
  return layers;
}

// ---- fixed world --------------------------------------------------------------------------
const label = (s) => sha256(Buffer.from(`veil packet test: ${s}`));
const relayId = (name) => sha256(Buffer.from(name)).subarray(0, 16);
const names = ['entry', 'hop1', 'hop2', 'hop3'];
const relays = names.map((name) => { const priv = label(name); return { name, priv, pub: x25519Base(priv), id: relayId(name) }; });
const [entry, h1, h2, h3] = relays;
const EPOCH = 20251123;
const K = pairwiseKey(entry.priv, entry.pub, h1.pub, EPOCH);
assert(K.equals(hkdf('veil/pairwise/v1', Buffer.concat([x25519(h1.priv, entry.pub), entry.pub, h1.pub, u64be(EPOCH)]), 'key', 32)), 'K both ends');
const K_reverse = pairwiseKey(h1.priv, h1.pub, entry.pub, EPOCH);
const payloadOf = (len) => { const b = zeros(len); for (let i = 0; i < len; ++i) b[i] = (i * 31 + 7) & 0xff; return b; };

const onionPath = [h1, h2, h3];
const hopOf = (r) => ({ pub: r.pub, id: r.id });
const keyOf = (r) => ({ priv: r.priv, pub: r.pub });

// v.epochs: each hop's epoch (default kEpoch for every hop); a pairwise first hop is in kEpoch.
function makeVector(v) {
  const rs = onionPath.slice(0, v.hops);
  const epochs = v.epochs ?? rs.map(() => EPOCH);
  const hops = rs.map((r, j) => ({ ...hopOf(r), epoch: epochs[j] }));
  const keys = rs.map((r, j) => ({ ...keyOf(r), epoch: epochs[j] }));
  if (v.pairwise) { assert(epochs[0] === EPOCH, 'K is for kEpoch'); hops[0].K = K; keys[0] = { K, epoch: EPOCH }; }
  const payload = payloadOf(v.payload_len);
  let draw;
  if (v.seed !== undefined) {
    const rng = new SeededRng(v.seed);
    draw = (n) => rng.fill(n);
  } else {
    let i = 0;
    draw = (n) => { const key = label(`${v.name} draw ${i++}`); return chachaStream(key, 0, n); };
  }
  const packet = wrap(hops, CMD[v.cmd], payload, v.P, draw);
  const layers = peel(packet, keys, hops, CMD[v.cmd], payload);
  return { ...v, packet, layers };
}

const cppVectors = [
  { name: 'onion1_p512_deliver', seed: 1, P: 512, hops: 1, pairwise: false, cmd: 'deliver', payload_len: 11 },
  { name: 'onion2_p1024_loop', seed: 2, P: 1024, hops: 2, pairwise: false, cmd: 'loop', payload_len: 100 },
  { name: 'onion3_p4096_deliver', seed: 3, P: 4096, hops: 3, pairwise: false, cmd: 'deliver', payload_len: 1000 },
  { name: 'pairwise3_p4096_drop', seed: 4, P: 4096, hops: 3, pairwise: true, cmd: 'drop', payload_len: 0 },
  { name: 'onion3_p777_full', seed: 5, P: 777, hops: 3, pairwise: false, cmd: 'deliver', payload_len: 777 - 3 * 80 - 4 },
  { name: 'onion3_p512_epochs', seed: 6, P: 512, hops: 3, pairwise: false, cmd: 'deliver', payload_len: 20, epochs: [EPOCH + 1, EPOCH, EPOCH + 2] },
].map(makeVector);
const refVectors = [
  { name: 'ref_onion1_p512', P: 512, hops: 1, pairwise: false, cmd: 'drop', payload_len: 40 },
  { name: 'ref_onion2_p512', P: 512, hops: 2, pairwise: false, cmd: 'deliver', payload_len: 300 },
  { name: 'ref_onion3_p777', P: 777, hops: 3, pairwise: false, cmd: 'loop', payload_len: 533 },
  { name: 'ref_pairwise2_p600', P: 600, hops: 2, pairwise: true, cmd: 'deliver', payload_len: 1 },
  { name: 'ref_onion2_p600_epochs', P: 600, hops: 2, pairwise: false, cmd: 'drop', payload_len: 9, epochs: [EPOCH + 1, EPOCH] },
].map(makeVector);

// ---- output -------------------------------------------------------------------------------
const wrapHex = (h, indent) => {
  const lines = [];
  for (let i = 0; i < h.length; i += 96) lines.push(`${indent}"${h.slice(i, i + 96)}"`);
  return lines.join('\n');
};
function emit(v, full) {
  const layers = v.layers.map((l) =>
    `      {"${l.input_sha256}",\n       "${l.replay}", ${l.cmd}, "${l.next_hop}", ${l.epoch}},`).join('\n');
  return `  {"${v.name}", ${v.seed ?? 0}, ${v.P}, ${v.hops}, ${v.pairwise}, ${CMD[v.cmd]}, ${v.payload_len},
   "${hex(sha256(v.packet))}",
${full ? wrapHex(hex(v.packet), '   ') : '   ""'},
   {{
${layers}
   }}},`;
}

const out = `// Generated by tests/unit/vectors/packet_layer_ref.mjs (node's built-in crypto); do not edit.
// Keys: private = SHA-256("veil packet test: " + name), relay id = SHA-256(name)[0..16).
// Payload byte i = (i * 31 + 7) mod 256.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace veil::test::packet_vectors {

struct Relay {
  std::string_view name;
  std::string_view private_hex;
  std::string_view public_hex;  // raw 32 bytes
  std::string_view id_hex;
};

// entry, hop1, hop2, hop3; onion paths are hop1, hop2, hop3; the pairwise layer is entry -> hop1.
inline constexpr std::array<Relay, 4> kRelays = {{
${relays.map((r) => `    {"${r.name}", "${hex(r.priv)}",\n     "${hex(r.pub)}", "${hex(r.id)}"},`).join('\n')}
}};
inline constexpr uint64_t kEpoch = ${EPOCH};
// K for entry -> hop1 in kEpoch, and for the opposite direction.
inline constexpr std::string_view kPairwiseKey = "${hex(K)}";
inline constexpr std::string_view kPairwiseKeyReverse = "${hex(K_reverse)}";

struct Layer {
  std::string_view input_sha256;  // SHA-256 of the packet this hop receives
  std::string_view replay_tag;
  uint8_t command;
  std::string_view next_hop;
  uint64_t epoch;  // the epoch of this hop's key; its parity is the top bit of the input's head
};

struct Vector {
  std::string_view name;
  uint64_t seed;  // SeededRng seed given to wrap_packet (cpp vectors); 0 for ref vectors
  std::size_t packet_size;
  std::size_t hops;
  bool pairwise_first;
  uint8_t final_command;
  std::size_t payload_len;
  std::string_view packet_sha256;
  std::string_view packet_hex;  // the full packet: ref vectors, and cpp vectors with P = 512
  std::array<Layer, 3> layers;  // the first \`hops\` are set
};

// wrap_packet(path, command, payload, P, SeededRng(seed)) must produce exactly these packets.
inline constexpr std::array<Vector, ${cppVectors.length}> kCppWrap = {{
${cppVectors.map((v) => emit(v, v.P <= 512)).join('\n')}
}};

// Wrapped by the reference from fixed inputs; the C++ unwrap must accept them as recorded.
inline constexpr std::array<Vector, ${refVectors.length}> kRefWrap = {{
${refVectors.map((v) => emit(v, true)).join('\n')}
}};

}  // namespace veil::test::packet_vectors
`;
fs.writeFileSync(path.join(here, 'packet_layer_vectors.h'), out);
console.log(`wrote packet_layer_vectors.h: ${cppVectors.length} cpp + ${refVectors.length} ref vectors, all unwrapped by the reference`);
