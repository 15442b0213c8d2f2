// Sealed sender v2 per libsignal's sealed_sender_v2 (randomness-reuse multi-recipient KEM).
#include "crypto/sealed_sender_v2.h"

#include <algorithm>
#include <cstring>
#include <set>

#include "crypto/cipher.h"
#include "crypto/kdf.h"

namespace veil::crypto {
namespace {

constexpr std::string_view kLabelR = "Sealed Sender v2: r (2023-08)";
constexpr std::string_view kLabelK = "Sealed Sender v2: K";
constexpr std::string_view kLabelDH = "Sealed Sender v2: DH";
constexpr std::string_view kLabelDHS = "Sealed Sender v2: DH-sender";
const uint8_t kZeroNonce[kGcmSivNonceSize] = {};

// C_i = HKDF(X25519(e,R) || E33 || R33, LABEL_DH) XOR M  (also used to recover M from C)
Error derive_c(ByteView dh_priv, const PublicKey& dh_pub, const PublicKey& eph,
               const PublicKey& recipient, ByteView m_or_c, std::span<uint8_t, 32> out) {
  Wiped<32> ss;
  if (Error e = x25519(dh_priv, dh_pub, ss); e != Error::ok) return e;
  const auto e33 = eph.serialize();
  const auto r33 = recipient.serialize();
  hkdf_sha256({ByteView(ss), e33, r33}, {}, as_bytes(kLabelDH), out);
  for (std::size_t i = 0; i < 32; ++i) out[i] ^= m_or_c[i];
  return Error::ok;
}

// AT_i = HKDF(X25519(s,R) || E33 || C || S33 || R33, LABEL_DH_S)[0..16]
Error derive_at(ByteView dh_priv, const PublicKey& dh_pub, const PublicKey& eph, ByteView c,
                const PublicKey& sender, const PublicKey& recipient, std::span<uint8_t, 16> out) {
  Wiped<32> ss;
  if (Error e = x25519(dh_priv, dh_pub, ss); e != Error::ok) return e;
  const auto e33 = eph.serialize();
  const auto s33 = sender.serialize();
  const auto r33 = recipient.serialize();
  hkdf_sha256({ByteView(ss), e33, c, s33, r33}, {}, as_bytes(kLabelDHS), out);
  return Error::ok;
}

void put_varint(Bytes& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<uint8_t>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<uint8_t>(v));
}

class Reader {
 public:
  explicit Reader(ByteView b) : b_(b) {}
  bool take(std::size_t n, ByteView& out) {
    if (b_.size() - pos_ < n) return false;
    out = b_.subspan(pos_, n);
    pos_ += n;
    return true;
  }
  bool u8(uint8_t& v) {
    ByteView x;
    if (!take(1, x)) return false;
    v = x[0];
    return true;
  }
  bool varint(uint64_t& v) {
    v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      uint8_t byte = 0;
      if (!u8(byte)) return false;
      v |= static_cast<uint64_t>(byte & 0x7F) << shift;
      if ((byte & 0x80) == 0) return true;
    }
    return false;
  }
  ByteView rest() const { return b_.subspan(pos_); }

 private:
  ByteView b_;
  std::size_t pos_ = 0;
};

}  // namespace

Result<Bytes> seal_v2(ByteView usmc, const KeyPair& sender,
                      std::span<const SealRecipient> recipients,
                      std::span<const ServiceId> excluded, Rng& rng) {
  if (recipients.empty()) return Error::invalid_argument;
  std::set<ServiceId> seen;
  for (const SealRecipient& r : recipients) {
    if (r.devices.empty()) return Error::invalid_argument;
    if (!seen.insert(r.service_id).second) return Error::duplicate_recipient;
    std::set<uint8_t> ids;
    for (const Device& d : r.devices) {
      if (d.id < 1 || d.id > 127) return Error::invalid_device_id;
      if (d.registration_id > kMaxRegistrationId) return Error::invalid_registration_id;
      if (!ids.insert(d.id).second) return Error::duplicate_recipient;
    }
  }
  for (const ServiceId& x : excluded) {
    if (!seen.insert(x).second) return Error::duplicate_recipient;
  }

  Wiped<32> m;
  rng.fill(m);
  Wiped<32> e;
  hkdf_sha256(ByteView(m), {}, as_bytes(kLabelR), e);
  const PublicKey eph = x25519_base(e);
  Wiped<32> k;
  hkdf_sha256(ByteView(m), {}, as_bytes(kLabelK), k);

  std::size_t size = 1 + 10 + recipients.size() * (17 + 48) + excluded.size() * 18 + 32 +
                     usmc.size() + kGcmSivTagSize;
  for (const SealRecipient& r : recipients) size += 3 * r.devices.size();
  Bytes out;
  out.reserve(size);
  out.push_back(kSentMessageVersion);
  put_varint(out, recipients.size() + excluded.size());
  for (const SealRecipient& r : recipients) {
    const auto sid = r.service_id.fixed_width();
    append(out, sid);
    for (std::size_t i = 0; i < r.devices.size(); ++i) {
      const bool more = i + 1 < r.devices.size();
      out.push_back(r.devices[i].id);
      const uint16_t v = static_cast<uint16_t>(r.devices[i].registration_id | (more ? 0x8000 : 0));
      out.push_back(static_cast<uint8_t>(v >> 8));
      out.push_back(static_cast<uint8_t>(v));
    }
    std::array<uint8_t, 32> c{};
    if (Error err = derive_c(e, r.identity_key, eph, r.identity_key, m, c); err != Error::ok) {
      return err;
    }
    std::array<uint8_t, 16> at{};
    if (Error err = derive_at(sender.priv.raw(), r.identity_key, eph, c, sender.pub,
                              r.identity_key, at);
        err != Error::ok) {
      return err;
    }
    append(out, c);
    append(out, at);
  }
  for (const ServiceId& x : excluded) {
    append(out, x.fixed_width());
    out.push_back(0);
  }
  append(out, eph.raw());
  append(out, aes256_gcm_siv_encrypt(k, kZeroNonce, {}, usmc));
  return out;
}

Result<SentMessage> SentMessage::parse(ByteView sent) {
  if (sent.empty()) return Error::truncated;
  SentMessage msg;
  msg.version = sent[0];
  if (msg.version != kSentMessageVersion && msg.version != kSentMessageLegacyVersion) {
    return Error::unknown_version;
  }
  const bool legacy = msg.version == kSentMessageLegacyVersion;
  Reader rd(sent.subspan(1));
  uint64_t count = 0;
  if (!rd.varint(count)) return Error::truncated;
  // Every entry takes at least 17 bytes: bound the count before reserving anything.
  if (count > sent.size() / 17) return Error::truncated;

  // Pass 1: read every entry; devices go to one flat vector.
  struct Entry {
    ServiceId id;
    uint32_t first_device = 0;
    uint32_t device_count = 0;
    ByteView key_material;
  };
  std::vector<Entry> entries;
  entries.reserve(count);
  std::vector<Device> devices;
  devices.reserve(count);
  for (uint64_t n = 0; n < count; ++n) {
    Entry e;
    ByteView sid_bytes;
    if (legacy) {
      if (!rd.take(16, sid_bytes)) return Error::truncated;
      std::copy(sid_bytes.begin(), sid_bytes.end(), e.id.uuid.begin());
    } else {
      if (!rd.take(17, sid_bytes)) return Error::truncated;
      auto sid = ServiceId::from_fixed_width(sid_bytes);
      if (!sid) return sid.error();
      e.id = *sid;
    }
    e.first_device = static_cast<uint32_t>(devices.size());
    for (;;) {
      uint8_t id = 0;
      if (!rd.u8(id)) return Error::truncated;
      if (id == 0) {
        if (e.device_count != 0) return Error::malformed;
        break;
      }
      if (id > 127) return Error::invalid_device_id;
      ByteView reg;
      if (!rd.take(2, reg)) return Error::truncated;
      const uint16_t v = static_cast<uint16_t>(reg[0] << 8 | reg[1]);
      devices.push_back(Device{id, static_cast<uint16_t>(v & kMaxRegistrationId)});
      ++e.device_count;
      if ((v & 0x8000) == 0) break;
    }
    if (e.device_count != 0 && !rd.take(kRecipientKeyMaterialSize, e.key_material)) {
      return Error::truncated;
    }
    entries.push_back(e);
  }
  if (rd.rest().size() < 32) return Error::truncated;
  msg.shared = rd.rest();

  // Pass 2: find repeated service ids by sorting (O(n log n) whatever the input).
  std::vector<uint32_t> order(entries.size());
  for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  auto key_less = [&](uint32_t a, uint32_t b) {
    const int c = std::memcmp(entries[a].id.uuid.data(), entries[b].id.uuid.data(), 16);
    if (c != 0) return c < 0;
    if (entries[a].id.kind != entries[b].id.kind) return entries[a].id.kind < entries[b].id.kind;
    return a < b;
  };
  std::sort(order.begin(), order.end(), key_less);
  // Groups of equal service ids: runs of `order`, each sorted by entry index.
  struct Group {
    uint32_t first;  // the first occurrence's entry index
    std::size_t begin, end;  // range in `order`
  };
  std::vector<Group> groups;
  groups.reserve(order.size());
  for (std::size_t k = 0; k < order.size();) {
    std::size_t j = k + 1;
    while (j < order.size() && entries[order[j]].id == entries[order[k]].id) ++j;
    if (j - k > 1) {
      // libsignal merges repeated recipients (keeping the first C/AT) but never with "excluded".
      for (std::size_t t = k; t < j; ++t) {
        if (entries[order[t]].device_count == 0) return Error::malformed;
      }
    }
    groups.push_back(Group{order[k], k, j});
    k = j;
  }
  const bool repeated = groups.size() != entries.size();

  // Recipients in first-seen order, each with its devices contiguous.
  msg.recipients.reserve(groups.size());
  if (!repeated) {
    for (const Entry& e : entries) {
      if (e.device_count == 0) {
        msg.excluded.push_back(e.id);
      } else {
        msg.recipients.push_back(Recipient{
            e.id, std::span<const Device>(devices).subspan(e.first_device, e.device_count),
            e.key_material});
      }
    }
    msg.device_storage_ = std::move(devices);  // the spans stay valid: the buffer moves along
  } else {
    std::sort(groups.begin(), groups.end(),
              [](const Group& a, const Group& b) { return a.first < b.first; });
    msg.device_storage_.reserve(devices.size());
    std::vector<std::pair<std::size_t, std::size_t>> ranges;  // per recipient, in storage
    for (const Group& g : groups) {
      const Entry& e = entries[g.first];
      if (e.device_count == 0) {
        msg.excluded.push_back(e.id);
        continue;
      }
      const std::size_t start = msg.device_storage_.size();
      for (std::size_t t = g.begin; t < g.end; ++t) {
        const Entry& part = entries[order[t]];
        const auto* d = devices.data() + part.first_device;
        msg.device_storage_.insert(msg.device_storage_.end(), d, d + part.device_count);
      }
      ranges.emplace_back(start, msg.device_storage_.size() - start);
      msg.recipients.push_back(Recipient{e.id, {}, e.key_material});
    }
    for (std::size_t r = 0; r < msg.recipients.size(); ++r) {
      msg.recipients[r].devices =
          std::span<const Device>(msg.device_storage_).subspan(ranges[r].first, ranges[r].second);
    }
  }
  for (const Recipient& r : msg.recipients) {
    uint8_t seen[128] = {};
    for (const Device& d : r.devices) {
      if (seen[d.id]++ != 0) return Error::duplicate_recipient;
    }
  }
  return msg;
}

std::array<ByteView, 3> SentMessage::received_pieces(std::size_t i) const {
  static const uint8_t kVersion[1] = {kReceivedMessageVersion};
  return {ByteView(kVersion, 1), recipients[i].key_material, shared};
}

Bytes SentMessage::received_message(std::size_t i) const {
  Bytes out;
  out.reserve(1 + kRecipientKeyMaterialSize + shared.size());
  for (ByteView piece : received_pieces(i)) append(out, piece);
  return out;
}

Result<OpenedV2> decrypt_v2(ByteView received, const KeyPair& recipient) {
  if (received.empty()) return Error::truncated;
  if ((received[0] >> 4) != 2) return Error::unknown_version;
  if (received.size() < 1 + 32 + 16 + 32 + kGcmSivTagSize) return Error::truncated;
  OpenedV2 out;
  std::copy_n(received.data() + 1, 32, out.c.begin());
  std::copy_n(received.data() + 33, 16, out.at.begin());
  out.ephemeral = PublicKey::from_raw(received.subspan(49, 32));
  const ByteView ciphertext = received.subspan(81);

  Wiped<32> m;
  if (derive_c(recipient.priv.raw(), out.ephemeral, out.ephemeral, recipient.pub, out.c, m) !=
      Error::ok) {
    return Error::decryption_failed;
  }
  Wiped<32> r;
  hkdf_sha256(ByteView(m), {}, as_bytes(kLabelR), r);
  const PublicKey e_check = x25519_base(r);
  if (!ct_equal(e_check.raw(), out.ephemeral.raw())) return Error::decryption_failed;
  Wiped<32> k;
  hkdf_sha256(ByteView(m), {}, as_bytes(kLabelK), k);
  auto plain = aes256_gcm_siv_decrypt(k, kZeroNonce, {}, ciphertext);
  if (!plain) return Error::decryption_failed;
  out.usmc = std::move(*plain);
  return out;
}

bool verify_v2_sender(const OpenedV2& opened, const KeyPair& recipient, const PublicKey& sender) {
  std::array<uint8_t, 16> at{};
  if (derive_at(recipient.priv.raw(), sender, opened.ephemeral, opened.c, sender, recipient.pub,
                at) != Error::ok) {
    return false;
  }
  return ct_equal(at, opened.at);
}

}  // namespace veil::crypto
