// The signed directory in the relay config: verified under the configured authorities, checked
// to list this relay as its key directory knows it, and turned into the peers and the epoch
// schedule the relay runs on.
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "proxy/relay/core/config.h"
#include "proxy/relay/core/config_fields.h"
#include "proxy/relay/core/directory.h"
#include "proxy/relay/core/relay_keys.h"

namespace veil::relay {
namespace {

constexpr int64_t kMicrosPerSecond = 1'000'000;

std::string reason(Error e, const std::string& detail) {
  return std::string(error_name(e)) + ": " + (detail.empty() ? std::string(error_message(e)) : detail);
}

}  // namespace

std::size_t effective_threshold(const RelayConfig& c) {
  return c.directory_threshold != 0 ? c.directory_threshold : c.directory_authorities.size() / 2 + 1;
}

std::vector<std::string> apply_directory(RelayConfig& c, const std::string& text,
                                         int64_t now_unix_s) {
  std::vector<std::string> p;
  const std::size_t threshold = effective_threshold(c);
  if (threshold > c.directory_authorities.size()) {
    p.push_back("directory_threshold: " + std::to_string(threshold) + " signatures asked for, but " +
                std::to_string(c.directory_authorities.size()) + " authorities are listed");
    return p;
  }
  std::string detail;
  auto identity = load_relay_identity(c.key_dir, &detail);
  if (!identity) {
    p.push_back("key_dir: " + reason(identity.error(), detail));
    return p;
  }
  if (identity->name != c.name) {
    p.push_back("key_dir: holds the keys of \"" + identity->name + "\", not of \"" + c.name + "\"");
    return p;
  }
  detail.clear();
  auto dir = verify_directory(text, c.directory_authorities, threshold, now_unix_s, &detail);
  if (!dir) {
    p.push_back("directory_file: " + reason(dir.error(), detail));
    return p;
  }
  const Descriptor* self = dir->find(c.name);
  if (self == nullptr || !lists(*dir, c.name, identity->key.public_key())) {
    p.push_back("directory_file: " + std::string(self == nullptr ? "does not list this relay (\"" + c.name + "\")"
                                                                 : "lists \"" + c.name + "\" under a different identity key from the one key_dir holds"));
    return p;
  }
  const bool provider_listed =
      std::find(self->providers.begin(), self->providers.end(), c.provider) != self->providers.end();
  if (c.provider.empty() ? !self->is_mix() : !provider_listed) {
    p.push_back("directory_file: this relay's descriptor " +
                (c.provider.empty() ? std::string("serves providers, but the config sets no provider")
                                    : "does not list its provider \"" + c.provider + "\""));
    return p;
  }
  const Micros length = dir->schedule.length_s * kMicrosPerSecond;
  if (c.epoch_overlap > length / 2) {
    p.push_back("epoch_overlap_ms: at most half the directory's epoch, " +
                std::to_string(dir->schedule.length_s * 500) + " ms");
    return p;
  }
  EpochTiming timing{dir->schedule.genesis_unix_s * kMicrosPerSecond, length, c.epoch_overlap, 0};
  const uint64_t current = epoch_at(timing, now_unix_s * kMicrosPerSecond);
  const crypto::PublicKey* published = self->epoch_key(current);
  detail.clear();
  auto own = load_epoch_key(c.key_dir, current, &detail);
  if (published == nullptr) {
    p.push_back("directory_file: publishes no epoch key of this relay for the current epoch " +
                std::to_string(current));
    return p;
  }
  if (!own) {
    p.push_back("key_dir: no key for the current epoch " + std::to_string(current) + ": " +
                reason(own.error(), detail));
    return p;
  }
  // Every epoch key of this relay that the directory publishes and key_dir already holds must be
  // the same key (a stale descriptor would make every layer to it fail from that epoch on).
  for (const EpochPublicKey& k : self->epoch_keys) {
    detail.clear();
    auto held = k.epoch == current ? std::move(own) : load_epoch_key(c.key_dir, k.epoch, &detail);
    if (!held) continue;  // made later, ahead of its epoch
    if (!(held->pub == k.key)) {
      p.push_back("directory_file: publishes a different key for this relay in epoch " +
                  std::to_string(k.epoch) + " from the one key_dir holds");
      return p;
    }
  }
  std::vector<PeerConfig> peers;
  bool any_mix = false;
  for (const Descriptor& d : dir->relays) {
    PeerConfig pc;
    pc.name = d.name;
    pc.id = relay_id(d.name);
    auto where = config_detail::parse_endpoint(d.addresses.front(), false, false);
    if (const auto* why = std::get_if<std::string>(&where)) {
      p.push_back("directory_file: relay \"" + d.name + "\": address " + d.addresses.front() + ": " + *why);
      continue;
    }
    const Endpoint& e = std::get<Endpoint>(where);
    pc.host = e.host;
    pc.port = e.port;
    pc.identity = d.identity_key;
    for (const EpochPublicKey& k : d.epoch_keys) pc.epoch_keys.emplace(k.epoch, k.key);
    pc.providers = d.providers;
    any_mix = any_mix || d.is_mix();
    peers.push_back(std::move(pc));
  }
  if (c.mix_hops > 0 && !any_mix) {
    p.push_back("mix_hops: " + std::to_string(c.mix_hops) +
                " asked for, but the directory lists no mix relay (a relay without providers)");
  }
  if (!p.empty()) return p;
  c.directory = std::move(peers);
  c.epoch_timing = timing;
  c.epoch = current;
  c.network = dir->network;
  c.directory_serial = dir->serial;
  c.directory_valid_until = dir->valid_until_unix_s;
  return p;
}

std::vector<std::string> attach_directory(RelayConfig& c, int64_t now_unix_s) {
  std::ifstream in(c.directory_file, std::ios::binary);
  if (!in) return {"directory_file: cannot read " + c.directory_file + ": " + std::strerror(errno)};
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return {"directory_file: cannot read " + c.directory_file};
  return apply_directory(c, text.str(), now_unix_s);
}

}  // namespace veil::relay
