// Implementation of the unit-test helpers declared in test_support.h.
#include "test_support.h"

#include <stdexcept>

#include "crypto/sealed_sender_v1.h"

namespace veil {
std::ostream& operator<<(std::ostream& os, Error e) { return os << error_name(e); }
}  // namespace veil

namespace veil::crypto {
std::ostream& operator<<(std::ostream& os, const PublicKey& k) { return os << to_hex(k.serialize()); }
std::ostream& operator<<(std::ostream& os, const ServiceId& id) { return os << id.to_string(); }
std::ostream& operator<<(std::ostream& os, ContentType t) { return os << content_type_name(t); }
std::ostream& operator<<(std::ostream& os, const Device& d) {
  return os << "device " << int{d.id} << " reg " << d.registration_id;
}
}  // namespace veil::crypto

namespace veil::test {

using namespace veil::crypto;

Bytes unhex(std::string_view hex) {
  auto b = from_hex(hex);
  if (!b) throw std::invalid_argument("bad hex literal in test");
  return *b;
}

std::string hexs(ByteView b) { return to_hex(b); }

KeyPair key_pair_from_hex(std::string_view private_hex) {
  auto priv = PrivateKey::parse(unhex(private_hex));
  if (!priv) throw std::invalid_argument("bad private key in test");
  return KeyPair::from_private(std::move(*priv));
}

PublicKey public_key_from_hex(std::string_view serialized_hex) {
  auto pub = PublicKey::parse(unhex(serialized_hex));
  if (!pub) throw std::invalid_argument("bad public key in test");
  return *pub;
}

ServiceId service_id(std::string_view text) {
  auto id = ServiceId::parse(text);
  if (!id) throw std::invalid_argument("bad service id in test");
  return *id;
}

Bytes flip(ByteView b, std::size_t index, uint8_t mask) {
  Bytes out(b.begin(), b.end());
  out.at(index) ^= mask;
  return out;
}

namespace {
void put_varint(Bytes& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<uint8_t>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<uint8_t>(v));
}
}  // namespace

void pb_varint(Bytes& out, uint32_t field, uint64_t value) {
  put_varint(out, field << 3 | 0);
  put_varint(out, value);
}

void pb_bytes(Bytes& out, uint32_t field, ByteView value) {
  put_varint(out, field << 3 | 2);
  put_varint(out, value.size());
  append(out, value);
}

void pb_fixed64(Bytes& out, uint32_t field, uint64_t value) {
  put_varint(out, field << 3 | 1);
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<uint8_t>(value >> (8 * i)));
}

World::World(uint64_t seed)
    : rng(seed),
      trust_root(KeyPair::generate(rng)),
      server(KeyPair::generate(rng)),
      sender(KeyPair::generate(rng)),
      recipient(KeyPair::generate(rng)),
      server_cert(ServerCertificate::issue(kServerKeyId, server.pub, trust_root.priv, rng)),
      sender_cert(certificate(sender_fields())) {}

SenderCertificate::Fields World::sender_fields() const {
  SenderCertificate::Fields f;
  f.sender_uuid = std::string(kSenderUuid);
  f.sender_e164 = std::string(kSenderE164);
  f.sender_device = kSenderDevice;
  f.expires_ms = kExpires;
  f.identity_key = sender.pub;
  return f;
}

SenderCertificate World::certificate(const SenderCertificate::Fields& fields) {
  auto c = SenderCertificate::issue(fields, &server_cert, std::nullopt, server.priv, rng);
  if (!c) throw std::invalid_argument("test certificate could not be issued");
  return *c;
}

Bytes World::usmc(const SenderCertificate* cert, ContentType type) {
  const SenderCertificate& c = cert != nullptr ? *cert : sender_cert;
  return MessageContent::serialize(type, c.serialized, as_bytes(kContent), 0, {});
}

TrustPolicy World::policy() const {
  TrustPolicy p;
  p.roots = {trust_root.pub};
  return p;
}

Bytes World::seal_v1(ByteView usmc_bytes) {
  auto m = crypto::seal_v1(usmc_bytes, sender, recipient.pub, rng);
  if (!m) throw std::invalid_argument("seal_v1 failed in test setup");
  return *m;
}

Bytes World::received_v2(ByteView usmc_bytes, const KeyPair& sealer) {
  const SealRecipient r{service_id("11111111-2222-4333-8444-555555555555"), {{1, 42}},
                        recipient.pub};
  auto sent = seal_v2(usmc_bytes, sealer, std::span(&r, 1), {}, rng);
  if (!sent) throw std::invalid_argument("seal_v2 failed in test setup");
  auto parsed = SentMessage::parse(*sent);
  if (!parsed) throw std::invalid_argument("SentMessage::parse failed in test setup");
  return parsed->received_message(0);
}

}  // namespace veil::test
