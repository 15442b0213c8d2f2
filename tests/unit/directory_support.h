// Helpers for the descriptor and directory suites: relays with identity and epoch keys from a
// seeded generator, hand-signed documents, and field edits of a signed body.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/rng.h"
#include "crypto/identity.h"
#include "crypto/keys.h"
#include "proxy/relay/core/descriptor.h"
#include "proxy/relay/core/directory.h"

namespace veil::test {

inline constexpr int64_t kGenesis = 1'700'000'000;
inline constexpr int64_t kEpochLength = 3600;
inline constexpr relay::EpochSchedule kSchedule{kGenesis, kEpochLength};
// Validity used by the directory tests: epochs 0..10 of kSchedule.
inline constexpr int64_t kValidAfter = kGenesis + 100;
inline constexpr int64_t kValidUntil = kGenesis + 36'000;

struct TestRelay {
  crypto::IdentityKey identity;
  relay::Descriptor descriptor;
  std::string text;  // the signed descriptor file
};

// A relay with `epochs` epoch keys from `first_epoch`, signed by a fresh identity key.
inline TestRelay make_relay(Rng& rng, const std::string& name, const std::string& address,
                            std::vector<std::string> providers = {}, uint64_t first_epoch = 0,
                            std::size_t epochs = 24) {
  crypto::IdentityKey id = crypto::IdentityKey::generate(rng);
  relay::Descriptor d;
  d.name = name;
  d.identity_key = id.public_key();
  d.addresses = {address};
  d.providers = std::move(providers);
  d.published_unix_s = kGenesis + 50;
  for (std::size_t i = 0; i < epochs; ++i) {
    d.epoch_keys.push_back({first_epoch + i, crypto::KeyPair::generate(rng).pub});
  }
  auto text = relay::sign_descriptor(d, id);
  if (!text) throw std::runtime_error("make_relay: cannot sign");
  return TestRelay{std::move(id), std::move(d), std::move(*text)};
}

inline Bytes message_of(std::string_view prefix, std::string_view body) {
  Bytes m(prefix.begin(), prefix.end());
  m.insert(m.end(), body.begin(), body.end());
  return m;
}

// A descriptor file whose body is exactly `body`, signed by `key`.
inline std::string signed_descriptor(const std::string& body, const crypto::IdentityKey& key) {
  const auto sig = key.sign(message_of(relay::kDescriptorSigningPrefix, body));
  return nlohmann::json{{"format", relay::kDescriptorFormat}, {"body", body}, {"signature", to_hex(sig)}}
      .dump();
}

// A directory file whose body is exactly `body`, signed by each of `keys` in order.
inline std::string signed_directory(const std::string& body,
                                    const std::vector<const crypto::IdentityKey*>& keys) {
  nlohmann::json sigs = nlohmann::json::array();
  for (const crypto::IdentityKey* k : keys) {
    const auto sig = k->sign(message_of(relay::kDirectorySigningPrefix, body));
    sigs.push_back({{"key", to_hex(k->public_key().raw())}, {"signature", to_hex(sig)}});
  }
  return nlohmann::json{{"format", relay::kDirectoryFormat}, {"body", body}, {"signatures", sigs}}.dump();
}

// The body string of a signed descriptor or directory file.
inline std::string body_of(const std::string& text) {
  return nlohmann::json::parse(text).at("body").get<std::string>();
}

// A directory body over `descriptor_texts` with the test schedule and validity.
inline nlohmann::json directory_body(const std::vector<std::string>& descriptor_texts) {
  nlohmann::json relays = nlohmann::json::array();
  for (const std::string& t : descriptor_texts) relays.push_back(nlohmann::json::parse(t));
  return nlohmann::json{{"version", 1},
                        {"network", "testnet"},
                        {"serial", 7},
                        {"valid_after", kValidAfter},
                        {"valid_until", kValidUntil},
                        {"epoch_schedule", {{"genesis", kGenesis}, {"length", kEpochLength}}},
                        {"relays", relays}};
}

}  // namespace veil::test
