// Writes libsignal_vectors.h: sealed-sender v1/v2 messages, a multi-recipient SentMessage and an XEdDSA signature made by libsignal-client.
// Run from the repository root: node tests/unit/vectors/make_vectors.mjs
// Needs scripts/node/node_modules (npm ci in scripts/node). Output differs per run (libsignal draws its own randomness);
// the fixed private keys and fields below stay the same, so only the message bytes and signatures change.
import * as SC from '../../../scripts/node/node_modules/@signalapp/libsignal-client/dist/index.js';
import SSMRM from '../../../scripts/node/node_modules/@signalapp/libsignal-client/dist/SealedSenderMultiRecipientMessage.js';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const hex = (b) => Buffer.from(b).toString('hex');
const bytes = (s) => new Uint8Array(Buffer.from(s));
// A fixed private key per role, so the committed keys are reproducible.
const fixedKey = (label) =>
  SC.PrivateKey.deserialize(new Uint8Array(crypto.createHash('sha256').update(`veil test key: ${label}`).digest()));
const addrKey = (a) => `${a.name()}.${a.deviceId()}`;

class IdentityStore extends SC.IdentityKeyStore {
  constructor(priv) { super(); this.priv = priv; this.known = new Map(); }
  async getIdentityKey() { return this.priv; }
  async getLocalRegistrationId() { return 1; }
  async saveIdentity(a, k) { this.known.set(addrKey(a), k); return SC.IdentityChange.NewOrUnchanged; }
  async isTrustedIdentity() { return true; }
  async getIdentity(a) { return this.known.get(addrKey(a)) ?? null; }
}
class SessionStore extends SC.SessionStore {
  constructor() { super(); this.m = new Map(); }
  async saveSession(a, r) { this.m.set(addrKey(a), r.serialize()); }
  async getSession(a) { const b = this.m.get(addrKey(a)); return b ? SC.SessionRecord.deserialize(b) : null; }
  async getExistingSessions(as) {
    return as.map((a) => {
      const b = this.m.get(addrKey(a));
      if (!b) throw new Error(`no session for ${addrKey(a)}`);
      return SC.SessionRecord.deserialize(b);
    });
  }
}

// Gives `store` a session with (name, device) whose remote registration id is `regId`.
async function session(sender, senderAddr, name, device, regId, identity) {
  const pre = SC.PrivateKey.generate();
  const spk = SC.PrivateKey.generate();
  const spkSig = identity.sign(spk.getPublicKey().serialize());
  const kem = SC.KEMKeyPair.generate();
  const kemSig = identity.sign(kem.getPublicKey().serialize());
  const bundle = SC.PreKeyBundle.new(regId, device, 1, pre.getPublicKey(), 1, spk.getPublicKey(), spkSig,
    identity.getPublicKey(), 1, kem.getPublicKey(), kemSig);
  const addr = SC.ProtocolAddress.new(name, device);
  await SC.processPreKeyBundle(bundle, addr, senderAddr, sender.sessions, sender.identities);
  return addr;
}

// ---- fixed parties and certificate fields
const trustRoot = fixedKey('trust root');
const serverKey = fixedKey('server');
const serverKeyId = 7;
const senderKey = fixedKey('sender identity');
const senderUuid = '9d0652a3-dcc3-4d11-975f-74d61598733f';
const senderE164 = '+14155550123';
const senderDevice = 5;
const expires = 1893456000000; // 2030-01-01T00:00:00Z
const alice = fixedKey('alice identity');
const aliceUuid = 'a1a1a1a1-0000-4000-8000-00000000000a';
const bob = fixedKey('bob identity');
const bobUuid = 'b0b0b0b0-0000-4000-8000-00000000000b';
const carol = fixedKey('carol pni identity');
const carolPni = 'c0c0c0c0-0000-4000-8000-00000000000c';
const dave = fixedKey('dave identity');
const daveUuid = 'da7eda7e-0000-4000-8000-00000000000d';
const eveUuid = 'e7e7e7e7-0000-4000-8000-00000000000e';
const frankPni = 'f0f0f0f0-0000-4000-8000-00000000000f';

const serverCert = SC.ServerCertificate.new(serverKeyId, serverKey.getPublicKey(), trustRoot);
const senderCert = SC.SenderCertificate.new(senderUuid, senderE164, senderDevice, senderKey.getPublicKey(), expires,
  serverCert, serverKey);
if (!senderCert.validate(trustRoot.getPublicKey(), expires)) throw new Error('certificate does not validate');

const sender = { identities: new IdentityStore(senderKey), sessions: new SessionStore() };
const senderAddr = SC.ProtocolAddress.new(senderUuid, senderDevice);

// ---- v1: a PlaintextContent USMC (type 8) with hint RESENDABLE and a group id
const dem = SC.DecryptionErrorMessage.forOriginal(bytes('original message'), SC.CiphertextMessageType.SenderKey,
  1700000000000, 2);
const groupId = bytes('veil test group id');
const usmcV1 = SC.UnidentifiedSenderMessageContent.new(SC.PlaintextContent.from(dem).asCiphertextMessage(), senderCert,
  SC.ContentHint.Resendable, groupId);
const aliceAddr = SC.ProtocolAddress.new(aliceUuid, 1);
await sender.identities.saveIdentity(aliceAddr, alice.getPublicKey());
const v1 = await SC.sealedSenderEncrypt(usmcV1, aliceAddr, sender.identities);

// ---- v2, one recipient: a real PreKey ratchet message (type 1 in the proto), default hint, no group id
await session(sender, senderAddr, aliceUuid, 1, 0x1234, alice);
const prekeyMsg = await SC.signalEncrypt(bytes('hello from libsignal'), aliceAddr, senderAddr, sender.sessions,
  sender.identities);
const usmcV2 = SC.UnidentifiedSenderMessageContent.new(prekeyMsg, senderCert, SC.ContentHint.Default, null);
const sentV2 = await SC.sealedSenderMultiRecipientEncrypt(usmcV2, [aliceAddr], sender.identities, sender.sessions);
const receivedV2 = SC.sealedSenderMultiRecipientMessageForSingleRecipient(sentV2);

// Both must open in libsignal itself.
const aliceStore = new IdentityStore(alice);
for (const [m, u] of [[v1, usmcV1], [receivedV2, usmcV2]]) {
  const got = await SC.sealedSenderDecryptToUsmc(m, aliceStore);
  if (hex(got.serialize()) !== hex(u.serialize())) throw new Error('libsignal does not open its own message');
}

// ---- multi-recipient SentMessage: Bob (ACI) devices 3 and 7, Carol (PNI) device 1, Dave (ACI) device 2 with the
// largest registration id, Bob again with device 9 (not contiguous: a second entry), and Eve (ACI) + Frank (PNI) excluded.
const plan = [
  [bobUuid, 3, 0x2222, bob], [bobUuid, 7, 0x3333, bob], [`PNI:${carolPni}`, 1, 0x0123, carol],
  [daveUuid, 2, 0x3fff, dave], [bobUuid, 9, 0x0001, bob],
];
const addrs = [];
for (const [name, device, regId, key] of plan) {
  addrs.push(await session(sender, senderAddr, name, device, regId, key));
  await sender.identities.saveIdentity(addrs.at(-1), key.getPublicKey());
}
const multi = await SC.sealedSenderMultiRecipientEncrypt({
  content: usmcV1, recipients: addrs, identityStore: sender.identities, sessionStore: sender.sessions,
  excludedRecipients: [SC.Aci.fromUuid(eveUuid), SC.Pni.fromUuid(frankPni)],
});
const parsed = new SSMRM(multi);
const byId = parsed.recipientsByServiceIdString();
const multiRecipients = [bobUuid, `PNI:${carolPni}`, daveUuid].map((id) => ({
  id, devices: byId[id].deviceIds.map((d, i) => [d, byId[id].registrationIds[i]]),
  received: parsed.messageForRecipient(byId[id]),
}));
if (Object.keys(byId).length !== 3) throw new Error('unexpected recipient map');
const bobStore = new IdentityStore(bob);
const bobGot = await SC.sealedSenderDecryptToUsmc(multiRecipients[0].received, bobStore);
if (hex(bobGot.serialize()) !== hex(usmcV1.serialize())) throw new Error('bob cannot open');

// ---- a standalone XEdDSA signature
const signed = bytes('veil xeddsa test message');
const signature = senderKey.sign(signed);

// ---- write the header
const wrap = (h) => (h.match(/.{1,96}/g) ?? ['']).map((l) => `    "${l}"`).join('\n');
const hexConst = (name, b) => `inline constexpr std::string_view ${name} =\n${wrap(hex(b))};\n`;
const strConst = (name, s) => `inline constexpr std::string_view ${name} = "${s}";\n`;
let out = `// libsignal-client ${JSON.parse(fs.readFileSync(path.join(here,
  '../../../scripts/node/node_modules/@signalapp/libsignal-client/package.json'))).version} vectors; generated by make_vectors.mjs, do not edit.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace veil::test::libsignal {

// Certificate chain and sender.
`;
out += hexConst('kTrustRootPrivate', trustRoot.serialize());
out += hexConst('kTrustRootPublic', trustRoot.getPublicKey().serialize());
out += hexConst('kServerPublic', serverKey.getPublicKey().serialize());
out += `inline constexpr uint32_t kServerKeyId = ${serverKeyId};\n`;
out += hexConst('kServerCertificate', serverCert.serialize());
out += hexConst('kSenderCertificate', senderCert.serialize());
out += hexConst('kSenderIdentityPublic', senderKey.getPublicKey().serialize());
out += strConst('kSenderUuid', senderUuid);
out += strConst('kSenderE164', senderE164);
out += `inline constexpr uint32_t kSenderDevice = ${senderDevice};\n`;
out += `inline constexpr uint64_t kExpires = ${expires}ULL;\n`;
out += '\n// Recipient of the v1 message and the single-recipient v2 message.\n';
out += hexConst('kAlicePrivate', alice.serialize());
out += hexConst('kAlicePublic', alice.getPublicKey().serialize());
out += '\n// v1: PlaintextContent (type 8), hint 1, group id.\n';
out += hexConst('kV1Message', v1);
out += hexConst('kV1Usmc', usmcV1.serialize());
out += `inline constexpr uint32_t kV1Type = 8;\n`;
out += `inline constexpr uint32_t kV1Hint = ${usmcV1.contentHint()};\n`;
out += hexConst('kV1GroupId', usmcV1.groupId());
out += hexConst('kV1Content', usmcV1.contents());
out += '\n// v2 received message for Alice: PreKey message (type 1), default hint, no group id.\n';
out += hexConst('kV2Sent', sentV2);
out += hexConst('kV2Received', receivedV2);
out += hexConst('kV2Usmc', usmcV2.serialize());
out += `inline constexpr uint32_t kV2Type = 1;\n`;
out += hexConst('kV2Content', usmcV2.contents());
out += '\n// Multi-recipient SentMessage (content = the v1 USMC) and what libsignal fans out to each recipient.\n';
out += hexConst('kMultiSent', multi);
out += hexConst('kBobPrivate', bob.serialize());
out += hexConst('kCarolPrivate', carol.serialize());
out += hexConst('kDavePrivate', dave.serialize());
out += `
struct ExpectedDevice {
  uint8_t id;
  uint16_t registration_id;
};
struct ExpectedRecipient {
  std::string_view service_id;
  std::span<const ExpectedDevice> devices;
  std::string_view received_hex;
};
`;
multiRecipients.forEach((r, i) => {
  out += `inline constexpr ExpectedDevice kMultiDevices${i}[] = {${r.devices.map(([d, g]) => `{${d}, 0x${g.toString(16)}}`).join(', ')}};\n`;
  out += hexConst(`kMultiReceived${i}`, r.received);
});
out += `inline constexpr ExpectedRecipient kMultiRecipients[] = {\n${multiRecipients.map((r, i) =>
  `    {"${r.id}", kMultiDevices${i}, kMultiReceived${i}},`).join('\n')}\n};\n`;
out += `inline constexpr std::string_view kMultiExcluded[] = {${parsed.excludedRecipientServiceIdStrings().map((s) => `"${s}"`).join(', ')}};\n`;
out += '\n// XEdDSA signature by the sender identity key.\n';
out += hexConst('kSignedMessage', signed);
out += hexConst('kSignature', signature);
out += '\n}  // namespace veil::test::libsignal\n';
fs.writeFileSync(path.join(here, 'libsignal_vectors.h'), out);
console.log(`wrote ${path.join(here, 'libsignal_vectors.h')}`);
