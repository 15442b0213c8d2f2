// In-memory libsignal-client protocol stores and a "party" helper (identity + prekeys) for the Veil interop harness.
import * as SC from '../../scripts/node/node_modules/@signalapp/libsignal-client/dist/index.js';

const addrKey = (addr) => `${addr.name()}.${addr.deviceId()}`;
const sameBytes = (a, b) => Buffer.from(a).equals(Buffer.from(b));

export class MemIdentityStore extends SC.IdentityKeyStore {
  constructor(privateKey, registrationId) {
    super();
    this.privateKey = privateKey;
    this.registrationId = registrationId;
    this.identities = new Map(); // "name.device" -> PublicKey
  }
  async getIdentityKey() { return this.privateKey; }
  async getLocalRegistrationId() { return this.registrationId; }
  async saveIdentity(addr, key) {
    const k = addrKey(addr);
    const prev = this.identities.get(k);
    this.identities.set(k, key);
    return prev && !sameBytes(prev.serialize(), key.serialize())
      ? SC.IdentityChange.ReplacedExisting
      : SC.IdentityChange.NewOrUnchanged;
  }
  async isTrustedIdentity(addr, key, _direction) {
    const prev = this.identities.get(addrKey(addr));
    return !prev || sameBytes(prev.serialize(), key.serialize());
  }
  async getIdentity(addr) { return this.identities.get(addrKey(addr)) ?? null; }
}

export class MemSessionStore extends SC.SessionStore {
  constructor() { super(); this.sessions = new Map(); } // "name.device" -> serialized record
  async saveSession(addr, record) { this.sessions.set(addrKey(addr), record.serialize()); }
  async getSession(addr) {
    const b = this.sessions.get(addrKey(addr));
    return b ? SC.SessionRecord.deserialize(b) : null;
  }
  async getExistingSessions(addrs) {
    return addrs.map((a) => {
      const b = this.sessions.get(addrKey(a));
      if (!b) throw new Error(`no session for ${addrKey(a)}`);
      return SC.SessionRecord.deserialize(b);
    });
  }
}

export class MemPreKeyStore extends SC.PreKeyStore {
  constructor() { super(); this.m = new Map(); }
  async savePreKey(id, rec) { this.m.set(id, rec.serialize()); }
  async getPreKey(id) {
    const b = this.m.get(id);
    if (!b) throw new Error(`no prekey ${id}`);
    return SC.PreKeyRecord.deserialize(b);
  }
  async removePreKey(id) { this.m.delete(id); }
}

export class MemSignedPreKeyStore extends SC.SignedPreKeyStore {
  constructor() { super(); this.m = new Map(); }
  async saveSignedPreKey(id, rec) { this.m.set(id, rec.serialize()); }
  async getSignedPreKey(id) {
    const b = this.m.get(id);
    if (!b) throw new Error(`no signed prekey ${id}`);
    return SC.SignedPreKeyRecord.deserialize(b);
  }
}

export class MemKyberPreKeyStore extends SC.KyberPreKeyStore {
  constructor() { super(); this.m = new Map(); this.used = []; }
  async saveKyberPreKey(id, rec) { this.m.set(id, rec.serialize()); }
  async getKyberPreKey(id) {
    const b = this.m.get(id);
    if (!b) throw new Error(`no kyber prekey ${id}`);
    return SC.KyberPreKeyRecord.deserialize(b);
  }
  async markKyberPreKeyUsed(id, spkId, baseKey) { this.used.push({ id, spkId, baseKey }); }
}

/**
 * One device of one account: identity key pair (shared across an account's devices if `identityKey`
 * is passed), registration id, and stores. `bundle()` publishes a fresh PreKeyBundle whose private
 * halves are kept in this device's stores.
 */
export class Party {
  constructor({ name, deviceId = 1, registrationId, identityKey } = {}) {
    this.name = name; // ServiceId string: "<uuid>" or "PNI:<uuid>"
    this.deviceId = deviceId;
    this.registrationId = registrationId;
    this.identityKey = identityKey ?? SC.PrivateKey.generate();
    this.identityPub = this.identityKey.getPublicKey();
    this.address = SC.ProtocolAddress.new(name, deviceId);
    this.identityStore = new MemIdentityStore(this.identityKey, registrationId);
    this.sessionStore = new MemSessionStore();
    this.preKeyStore = new MemPreKeyStore();
    this.signedPreKeyStore = new MemSignedPreKeyStore();
    this.kyberPreKeyStore = new MemKyberPreKeyStore();
    this._nextId = 1;
  }

  async bundle() {
    const id = this._nextId++;
    const ts = Date.now();
    const pre = SC.PrivateKey.generate();
    const spk = SC.PrivateKey.generate();
    const spkSig = this.identityKey.sign(spk.getPublicKey().serialize());
    const kem = SC.KEMKeyPair.generate();
    const kemSig = this.identityKey.sign(kem.getPublicKey().serialize());
    await this.preKeyStore.savePreKey(id, SC.PreKeyRecord.new(id, pre.getPublicKey(), pre));
    await this.signedPreKeyStore.saveSignedPreKey(
      id, SC.SignedPreKeyRecord.new(id, ts, spk.getPublicKey(), spk, spkSig));
    await this.kyberPreKeyStore.saveKyberPreKey(id, SC.KyberPreKeyRecord.new(id, ts, kem, kemSig));
    return SC.PreKeyBundle.new(
      this.registrationId, this.deviceId, id, pre.getPublicKey(), id, spk.getPublicKey(), spkSig,
      this.identityPub, id, kem.getPublicKey(), kemSig);
  }

  /** Establish an outgoing session from this party to `peer` (a Party) via its prekey bundle. */
  async startSessionWith(peer) {
    await SC.processPreKeyBundle(await peer.bundle(), peer.address, this.address,
      this.sessionStore, this.identityStore);
  }

  /** Remember `peer`'s identity key without a session (enough for v1 sealedSenderEncrypt). */
  async trust(peerAddress, peerPub) {
    await this.identityStore.saveIdentity(peerAddress, peerPub);
  }
}
