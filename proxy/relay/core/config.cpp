// JSON configuration parsing and validation for veil-relay.
#include "proxy/relay/core/config.h"

#include <sodium.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

namespace veil::relay {
namespace {

using nlohmann::json;

[[noreturn]] void bad(const std::string& field, const std::string& why) {
  throw std::runtime_error("config: " + field + ": " + why);
}

Endpoint parse_endpoint(const json& j, const std::string& field) {
  Endpoint e;
  if (j.is_null()) return e;
  if (!j.is_string()) bad(field, "expected \"host:port\" or \"unix:/path\"");
  const std::string s = j.get<std::string>();
  if (s.rfind("unix:", 0) == 0) {
    e.unix_path = s.substr(5);
    if (e.unix_path.empty()) bad(field, "empty unix socket path");
    return e;
  }
  const auto colon = s.rfind(':');
  if (colon == std::string::npos || colon == 0) bad(field, "expected host:port");
  e.host = s.substr(0, colon);
  if (e.host.front() == '[' && e.host.back() == ']') e.host = e.host.substr(1, e.host.size() - 2);
  try {
    const unsigned long p = std::stoul(s.substr(colon + 1));
    if (p > 65535) bad(field, "port out of range");
    e.port = static_cast<uint16_t>(p);
  } catch (const std::logic_error&) {
    bad(field, "port is not a number");
  }
  return e;
}

template <class T>
T get_or(const json& j, const char* key, T fallback) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  return it->get<T>();
}

crypto::PublicKey parse_public_key_hex(const std::string& hex, const std::string& field) {
  auto bytes = from_hex(hex);
  if (!bytes) bad(field, "not hex");
  auto key = crypto::PublicKey::parse(*bytes);
  if (!key) bad(field, "not a public key (33 bytes, 0x05 first)");
  return *key;
}

MixConfig parse_mix(const json& j) {
  MixConfig m;
  if (j.is_null()) return m;
  const std::string s = get_or<std::string>(j, "strategy", "poisson");
  auto strategy = parse_strategy(s);
  if (!strategy) bad("mix.strategy", "unknown strategy '" + s + "'");
  m.strategy = *strategy;
  m.threshold = get_or<std::size_t>(j, "threshold", m.threshold);
  m.interval = static_cast<Micros>(get_or<double>(j, "interval_ms", static_cast<double>(m.interval) / 1000.0) * 1000.0);
  m.probability = get_or<double>(j, "probability", m.probability);
  m.min_pool = get_or<std::size_t>(j, "min_pool", m.min_pool);
  m.mean_delay = static_cast<Micros>(get_or<double>(j, "mean_delay_ms", static_cast<double>(m.mean_delay) / 1000.0) * 1000.0);
  return m;
}

}  // namespace

crypto::RelayId relay_id(const std::string& name) {
  std::array<uint8_t, crypto_hash_sha256_BYTES> h{};
  crypto_hash_sha256(h.data(), reinterpret_cast<const uint8_t*>(name.data()), name.size());
  crypto::RelayId id{};
  std::copy_n(h.begin(), id.size(), id.begin());
  return id;
}

RelayConfig parse_config(const std::string& text) {
  const json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) bad("(file)", "not a JSON object");
  RelayConfig c;
  try {
    c.name = j.at("name").get<std::string>();
    c.id = relay_id(c.name);
    c.provider = get_or<std::string>(j, "provider", "");
    c.peer_listen = parse_endpoint(j.value("peer_listen", json()), "peer_listen");
    c.submit_listen = parse_endpoint(j.value("submit_listen", json()), "submit_listen");
    c.deliver_to = parse_endpoint(j.value("deliver_to", json()), "deliver_to");
    c.epoch_key_file = j.at("epoch_key_file").get<std::string>();
    c.epoch = get_or<uint64_t>(j, "epoch", 0);
    c.packet_size = get_or<std::size_t>(j, "packet_size", c.packet_size);
    c.timestamp_quantum_ms = get_or<int64_t>(j, "timestamp_quantum_ms", c.timestamp_quantum_ms);
    c.mix_hops = get_or<std::size_t>(j, "mix_hops", c.mix_hops);
    c.mix = parse_mix(j.value("mix", json()));
    if (auto cv = j.find("cover"); cv != j.end() && cv->is_object()) {
      c.cover.drop_rate = get_or<double>(*cv, "drop_rate", 0);
      c.cover.loop_rate = get_or<double>(*cv, "loop_rate", 0);
      c.cover.loop_timeout = static_cast<Micros>(get_or<double>(*cv, "loop_timeout_ms", 10000) * 1000);
      c.cover.alarm_loss = get_or<double>(*cv, "alarm_loss", c.cover.alarm_loss);
      c.cover.alarm_latency = static_cast<Micros>(get_or<double>(*cv, "alarm_latency_ms", 5000) * 1000);
    }
    c.per_peer_queue = get_or<std::size_t>(j, "per_peer_queue", c.per_peer_queue);
    c.crypto_workers = get_or<unsigned>(j, "crypto_workers", c.crypto_workers);
    c.max_replay_entries = get_or<std::size_t>(j, "max_replay_entries", c.max_replay_entries);
    c.deliver_retry = static_cast<Micros>(get_or<double>(j, "deliver_retry_ms", 2000) * 1000);
    c.metrics_file = get_or<std::string>(j, "metrics_file", "");
    c.metrics_interval = static_cast<Micros>(get_or<double>(j, "metrics_interval_ms", 1000) * 1000);
    if (auto rs = j.find("recipients"); rs != j.end()) {
      for (const auto& [sid, v] : rs->items()) {
        RecipientAccess a;
        if (v.is_string() && v.get<std::string>() == "unrestricted") {
          a.unrestricted = true;
        } else {
          auto key = from_hex(v.get<std::string>());
          if (!key || key->size() != 16) bad("recipients." + sid, "expected 16-byte hex key or \"unrestricted\"");
          std::copy(key->begin(), key->end(), a.access_key.begin());
        }
        c.recipients.emplace(sid, a);
      }
    }
    for (const json& p : j.at("directory")) {
      PeerConfig peer;
      peer.name = p.at("name").get<std::string>();
      peer.id = relay_id(peer.name);
      const Endpoint e = parse_endpoint(p.at("address"), "directory." + peer.name + ".address");
      peer.host = e.host;
      peer.port = e.port;
      peer.epoch_key = parse_public_key_hex(p.at("epoch_key").get<std::string>(),
                                            "directory." + peer.name + ".epoch_key");
      peer.providers = get_or<std::vector<std::string>>(p, "providers", {});
      c.directory.push_back(std::move(peer));
    }
  } catch (const nlohmann::json::exception& e) {
    bad("(file)", e.what());
  }
  if (c.packet_size < crypto::kMinPacketSize || c.packet_size > crypto::kMaxPacketSize) {
    bad("packet_size", "must be within 512..65536");
  }
  if (c.crypto_workers > 128) bad("crypto_workers", "must be within 0..128 (0: one per CPU)");
  if (c.timestamp_quantum_ms <= 0) bad("timestamp_quantum_ms", "must be positive");
  if (!c.peer_listen.enabled()) bad("peer_listen", "required");
  if (!c.provider.empty() && !c.deliver_to.enabled()) bad("deliver_to", "required for a provider relay");
  return c;
}

RelayConfig load_config(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("config: cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_config(ss.str());
}

}  // namespace veil::relay
