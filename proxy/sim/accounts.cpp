// Provider and account generation and sealing helpers for simulations.
#include "proxy/sim/accounts.h"

#include "crypto/message_content.h"
#include "crypto/sealed_sender_v1.h"
#include "crypto/service_id.h"

namespace veil::sim {

crypto::ServiceId Account::service_id() const { return *crypto::ServiceId::parse(uuid); }

Provider Provider::create(std::string name, std::size_t users, uint64_t expires_ms, Rng& rng) {
  Provider p{std::move(name), crypto::KeyPair::generate(rng), crypto::KeyPair::generate(rng), {}, {}};
  p.server_certificate = crypto::ServerCertificate::issue(1, p.server_key.pub, p.trust_root.priv, rng);
  for (std::size_t i = 0; i < users; ++i) {
    crypto::Uuid u{};
    rng.fill(u);
    u[6] = static_cast<uint8_t>((u[6] & 0x0F) | 0x40);  // version 4
    u[8] = static_cast<uint8_t>((u[8] & 0x3F) | 0x80);  // variant
    Account a{crypto::format_uuid(u), crypto::KeyPair::generate(rng), {}, 0, 1, {}};
    rng.fill(a.access_key);
    a.registration_id = static_cast<uint16_t>(1 + rng.uniform(0x3FFE));
    crypto::SenderCertificate::Fields f;
    f.sender_uuid = a.uuid;
    f.sender_device = a.device;
    f.expires_ms = expires_ms;
    f.identity_key = a.identity.pub;
    a.certificate = std::move(*crypto::SenderCertificate::issue(f, &p.server_certificate, {},
                                                                p.server_key.priv, rng));
    p.accounts.push_back(std::move(a));
  }
  return p;
}

Bytes seal_v1_to(const Account& sender, const Account& recipient, ByteView content, Rng& rng) {
  const Bytes usmc = crypto::MessageContent::serialize(crypto::ContentType::message,
                                                       sender.certificate.serialized, content, 0, {});
  return std::move(*crypto::seal_v1(usmc, sender.identity, recipient.identity.pub, rng));
}

Bytes seal_v2_to(const Account& sender, const std::vector<const Account*>& recipients,
                 ByteView content, Rng& rng) {
  const Bytes usmc = crypto::MessageContent::serialize(crypto::ContentType::message,
                                                       sender.certificate.serialized, content, 0, {});
  std::vector<crypto::SealRecipient> rs;
  for (const Account* r : recipients) {
    rs.push_back(crypto::SealRecipient{r->service_id(), {crypto::Device{r->device, r->registration_id}},
                                       r->identity.pub});
  }
  return std::move(*crypto::seal_v2(usmc, sender.identity, rs, {}, rng));
}

std::array<uint8_t, 16> combined_access_key(const std::vector<const Account*>& recipients) {
  std::array<uint8_t, 16> k{};
  for (const Account* r : recipients) {
    for (std::size_t i = 0; i < 16; ++i) k[i] ^= r->access_key[i];
  }
  return k;
}

}  // namespace veil::sim
