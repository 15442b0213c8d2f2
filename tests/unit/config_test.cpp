// Relay config: TOML in, every problem reported at once (unknown keys by full path, types,
// ranges, required keys, endpoints, authority keys, recipients), the signed directory it names
// (verified under the configured authorities at a given time, listing this relay with its key
// directory's identity and current epoch key), the generated key reference in docs/config.md,
// config/relay.example.toml, and JSON to TOML for the simulation.
#include <boost/test/unit_test.hpp>
#include <cstdlib>

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "base/rng.h"
#include "crypto/identity.h"
#include "crypto/keys.h"
#include "proxy/relay/core/config.h"
#include "proxy/relay/core/descriptor.h"
#include "proxy/relay/core/directory.h"
#include "proxy/relay/core/relay_keys.h"
#include "test_support.h"

#ifndef VEIL_SOURCE_DIR
#error "VEIL_SOURCE_DIR must name the source tree (tests/CMakeLists.txt sets it)"
#endif

using namespace veil;
using namespace veil::relay;
namespace fs = std::filesystem;

namespace {

// The network of the Scratch fixture: hour-long epochs, a directory valid for epochs 0..3, and
// the time every config is judged at (in epoch 1) unless a case says otherwise.
constexpr int64_t kGenesis = 1'700'000'000;
constexpr int64_t kEpochLength = 3600;
constexpr uint64_t kEpochs = 4;
constexpr int64_t kValidAfter = kGenesis + 100;
constexpr int64_t kValidUntil = kGenesis + static_cast<int64_t>(kEpochs) * kEpochLength;
constexpr int64_t kNowS = kGenesis + kEpochLength + 1200;
constexpr uint64_t kCurrentEpoch = 1;
constexpr int64_t kMicrosPerSecond = 1'000'000;

void must(Error e, const std::string& what, const std::string& detail) {
  if (e != Error::ok) throw std::runtime_error(what + ": " + std::string(error_name(e)) + ": " + detail);
}

template <class T>
T must(Result<T> r, const std::string& what, const std::string& detail) {
  if (!r) throw std::runtime_error(what + ": " + std::string(error_name(r.error())) + ": " + detail);
  return std::move(*r);
}

// A scratch directory holding a small network: key directories for mix-1 (a mix), relay-alpha
// (the sidecar of alpha.example) and relay-beta (of beta.example) with keys for every epoch of
// the validity, their signed descriptors, three directory authorities, and a directory of the
// three relays signed by the first two authorities (a majority of the three).
struct Scratch {
  fs::path dir;
  SeededRng rng{7};
  std::vector<crypto::IdentityKey> authorities;
  std::string mix_descriptor;
  std::string alpha_descriptor;
  std::string beta_descriptor;
  std::string directory_file;
  std::string journal;

  Scratch() {
    std::string tmpl = (fs::temp_directory_path() / "veil-config-test-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp");
    dir = tmpl;
    journal = (dir / "journal").string();
    for (int i = 0; i < 3; ++i) authorities.push_back(crypto::IdentityKey::generate(rng));
    mix_descriptor = descriptor(make_key_dir(key_dir("mix-1"), "mix-1"), "127.0.0.1:7601");
    alpha_descriptor =
        descriptor(make_key_dir(key_dir("relay-alpha"), "relay-alpha"), "127.0.0.1:7401", {"alpha.example"});
    beta_descriptor =
        descriptor(make_key_dir(key_dir("relay-beta"), "relay-beta"), "[::1]:7701", {"beta.example"});
    directory_file = sign_directory("directory.json", {mix_descriptor, alpha_descriptor, beta_descriptor});
  }
  ~Scratch() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;

  std::string write_text(const std::string& name, const std::string& text) const {
    const fs::path p = dir / name;
    std::ofstream(p, std::ios::binary) << text;
    return p.string();
  }

  // The key directory of the relay `name` in this network.
  std::string key_dir(const std::string& name) const { return (dir / (name + ".keys")).string(); }

  // A new key directory at `path` for the relay `name`, with keys for the epochs of the validity.
  std::string make_key_dir(const std::string& path, const std::string& name) {
    std::string why;
    must(init_relay_keys(path, name, rng, &why), path, why);
    must(ensure_epoch_keys(path, 0, kEpochs, rng, &why), path, why);
    return path;
  }

  // The signed descriptor of the relay whose keys are in `kd`: its epoch keys of the validity.
  std::string descriptor(const std::string& kd, const std::string& address,
                         std::vector<std::string> providers = {}) {
    std::string why;
    const RelayIdentity id = must(load_relay_identity(kd, &why), kd, why);
    Descriptor d;
    d.name = id.name;
    d.identity_key = id.key.public_key();
    d.addresses = {address};
    d.providers = std::move(providers);
    d.published_unix_s = kValidAfter;
    for (uint64_t e = 0; e < kEpochs; ++e) d.epoch_keys.push_back({e, must(load_epoch_key(kd, e, &why), kd, why).pub});
    return must(sign_descriptor(d, id.key, &why), kd, why);
  }

  // The file `name`: a directory of `descriptors` signed by the authorities `signers` (indices).
  std::string sign_directory(const std::string& name, const std::vector<std::string>& descriptors,
                             const std::vector<std::size_t>& signers = {0, 1}) {
    DirectoryContents contents;
    contents.network = "veil-test";
    contents.serial = 7;
    contents.valid_after_unix_s = kValidAfter;
    contents.valid_until_unix_s = kValidUntil;
    contents.schedule = EpochSchedule{kGenesis, kEpochLength};
    contents.descriptors = descriptors;
    std::string why;
    std::string text;
    for (std::size_t i : signers) {
      text = text.empty() ? must(create_directory(contents, authorities.at(i), &why), name, why)
                          : must(add_signature(text, authorities.at(i), &why), name, why);
    }
    return write_text(name, text);
  }

  std::string authority_hex(std::size_t i) const { return to_hex(authorities.at(i).public_key().raw()); }

  // A TOML array of the hex public keys of the authorities `which`.
  std::string authorities_toml(const std::vector<std::size_t>& which = {0, 1, 2}) const {
    std::string out;
    for (std::size_t i : which) out += std::string(out.empty() ? "" : ", ") + "\"" + authority_hex(i) + "\"";
    return "[" + out + "]";
  }

  // A valid config of the mix relay mix-1: `top` is added among the top-level keys (after the
  // directory keys), then `tables`.
  std::string mix_config(const std::string& top = "", const std::string& tables = "") const {
    return "name = \"mix-1\"\n"
           "peer_listen = \"127.0.0.1:7601\"\n"
           "journal_dir = \"" + journal + "\"\n"
           "key_dir = \"" + key_dir("mix-1") + "\"\n"
           "directory_file = \"" + directory_file + "\"\n"
           "directory_authorities = " + authorities_toml() + "\n" + top + "\n" + tables + "\n";
  }

  // A valid config of the provider relay relay-alpha, with the same insertion points.
  std::string provider_config(const std::string& top = "", const std::string& tables = "") const {
    return "name = \"relay-alpha\"\n"
           "provider = \"alpha.example\"\n"
           "peer_listen = \"127.0.0.1:7401\"\n"
           "deliver_to = \"127.0.0.1:7500\"\n"
           "journal_dir = \"" + journal + "\"\n"
           "key_dir = \"" + key_dir("relay-alpha") + "\"\n"
           "directory_file = \"" + directory_file + "\"\n"
           "directory_authorities = " + authorities_toml() + "\n" + top + "\n" + tables + "\n";
  }
};

std::vector<std::string> problems_of(const std::string& text, int64_t now = kNowS) {
  ConfigResult r = build_config(text, now);
  if (auto* bad = std::get_if<ConfigProblems>(&r)) {
    BOOST_TEST_REQUIRE(!bad->problems.empty());
    return bad->problems;
  }
  return {};
}

RelayConfig valid(const std::string& text, int64_t now = kNowS) {
  ConfigResult r = build_config(text, now);
  if (auto* bad = std::get_if<ConfigProblems>(&r)) {
    std::string all;
    for (const auto& p : bad->problems) all += "\n  " + p;
    BOOST_FAIL("expected a valid config, got:" << all);
  }
  return std::get<RelayConfig>(std::move(r));
}

std::string joined(const std::vector<std::string>& problems) {
  std::string all;
  for (const auto& p : problems) all += p + "\n";
  return all;
}

// True if some problem starts with `path` followed by ": " and contains `text`.
bool reports(const std::vector<std::string>& problems, const std::string& path, const std::string& text = "") {
  return std::any_of(problems.begin(), problems.end(), [&](const std::string& p) {
    return p.rfind(path + ": ", 0) == 0 && p.find(text, path.size()) != std::string::npos;
  });
}

// `text` with the first `from` replaced by `to`.
std::string replaced(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  BOOST_TEST_REQUIRE(at != std::string::npos, "no " << from << " in the config");
  return text.replace(at, from.size(), to);
}

// The single problem of a config that has exactly one.
std::string only_problem(const std::string& text, int64_t now = kNowS) {
  const auto p = problems_of(text, now);
  BOOST_TEST_REQUIRE(p.size() == 1u, "expected one problem, got:\n" << joined(p));
  return p.front();
}

std::string read_source(const std::string& relative) {
  std::ifstream in(fs::path(VEIL_SOURCE_DIR) / relative);
  BOOST_TEST_REQUIRE(static_cast<bool>(in), "cannot read " << relative);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  BOOST_TEST_REQUIRE(static_cast<bool>(in), "cannot read " << path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

crypto::IdentityPublicKey identity_in(const std::string& kd) {
  std::string why;
  return must(load_relay_identity(kd, &why), kd, why).key.public_key();
}

// Checks `peer` against the key directory `kd` it was made from: id, identity and epoch keys.
void check_peer(const PeerConfig& peer, const std::string& name, const std::string& kd) {
  BOOST_TEST_CONTEXT(name) {
    BOOST_TEST(peer.name == name);
    BOOST_TEST((peer.id == relay_id(name)));
    BOOST_TEST((peer.identity == identity_in(kd)));
    BOOST_TEST_REQUIRE(peer.epoch_keys.size() == kEpochs);
    for (uint64_t e = 0; e < kEpochs; ++e) {
      std::string why;
      BOOST_TEST((peer.epoch_keys.at(e) == must(load_epoch_key(kd, e, &why), kd, why).pub), "epoch " << e);
    }
  }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(config)

BOOST_AUTO_TEST_CASE(full_config_sets_every_field) {
  Scratch s;
  const std::string text =
      "name = \"relay-alpha\"\n"
      "provider = \"alpha.example\"\n"
      "peer_listen = \"0.0.0.0:0\"\n"
      "submit_listen = \"unix:/run/veil/submit.sock\"\n"
      "deliver_to = \"[::1]:7500\"\n"
      "key_dir = \"" + s.key_dir("relay-alpha") + "\"\n"
      "directory_file = \"" + s.directory_file + "\"\n"
      "directory_authorities = " + s.authorities_toml() + "\n"
      "directory_threshold = 2\n"
      "epoch_overlap_ms = 900000\n"
      "link_handshake_timeout_ms = 2500\n"
      "plain_links = true\n"
      "packet_size = 2048\n"
      "timestamp_quantum_ms = 60000\n"
      "mix_hops = 2\n"
      "per_peer_queue = 1000\n"
      "crypto_workers = 4\n"
      "max_replay_entries = 5000\n"
      "deliver_retry_ms = 250\n"
      "journal_dir = \"" + s.journal + "\"\n"
      "journal_commit_window_ms = 2\n"
      "drain_timeout_ms = 5000\n"
      "metrics_file = \"/var/lib/veil/metrics.json\"\n"
      "metrics_interval_ms = 0.5\n"
      "[mix]\n"
      "strategy = \"binomial\"\n"
      "threshold = 7\n"
      "interval_ms = 150\n"
      "probability = 0.25\n"
      "min_pool = 3\n"
      "mean_delay_ms = 12.5\n"
      "[cover]\n"
      "drop_rate = 2\n"
      "loop_rate = 0.5\n"
      "loop_timeout_ms = 1500\n"
      "alarm_loss = 0.1\n"
      "alarm_latency_ms = 750\n"
      "[recipients]\n"
      "\"6a0e2c4b-1f3d-4e5a-8b7c-9d0e1f2a3b4c\" = \"00112233445566778899aabbccddeeff\"\n"
      "\"PNI:1b2c3d4e-5f60-4172-8394-a5b6c7d8e9f0\" = \"unrestricted\"\n";
  const RelayConfig c = valid(text);
  BOOST_TEST(c.name == "relay-alpha");
  BOOST_TEST((c.id == relay_id("relay-alpha")));
  BOOST_TEST(c.provider == "alpha.example");
  BOOST_TEST(c.peer_listen.host == "0.0.0.0");
  BOOST_TEST(c.peer_listen.port == 0u);
  BOOST_TEST(c.submit_listen.unix_path == "/run/veil/submit.sock");
  BOOST_TEST(c.submit_listen.host.empty());
  BOOST_TEST(c.deliver_to.host == "::1");
  BOOST_TEST(c.deliver_to.port == 7500u);
  BOOST_TEST(c.key_dir == s.key_dir("relay-alpha"));
  BOOST_TEST(c.directory_file == s.directory_file);
  BOOST_TEST_REQUIRE(c.directory_authorities.size() == 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    BOOST_TEST((c.directory_authorities[i] == s.authorities[i].public_key()), "authority " << i);
  }
  BOOST_TEST(c.directory_threshold == 2u);
  BOOST_TEST(c.epoch_overlap == 900'000'000);
  BOOST_TEST(c.link_handshake_timeout == 2'500'000);
  BOOST_TEST(c.plain_links);
  BOOST_TEST(c.packet_size == 2048u);
  BOOST_TEST(c.timestamp_quantum_ms == 60000);
  BOOST_TEST(c.mix_hops == 2u);
  BOOST_TEST(c.per_peer_queue == 1000u);
  BOOST_TEST(c.crypto_workers == 4u);
  BOOST_TEST(c.max_replay_entries == 5000u);
  BOOST_TEST(c.deliver_retry == 250'000);
  BOOST_TEST(c.journal_dir == s.journal);
  BOOST_TEST(!c.run_without_journal);
  BOOST_TEST(c.journal_commit_window == 2'000);
  BOOST_TEST(c.drain_timeout == 5'000'000);
  BOOST_TEST(c.metrics_file == "/var/lib/veil/metrics.json");
  BOOST_TEST(c.metrics_interval == 500);
  BOOST_TEST((c.mix.strategy == MixConfig::Strategy::binomial));
  BOOST_TEST(c.mix.threshold == 7u);
  BOOST_TEST(c.mix.interval == 150'000);
  BOOST_TEST(c.mix.probability == 0.25);
  BOOST_TEST(c.mix.min_pool == 3u);
  BOOST_TEST(c.mix.mean_delay == 12'500);
  BOOST_TEST(c.cover.drop_rate == 2.0);
  BOOST_TEST(c.cover.loop_rate == 0.5);
  BOOST_TEST(c.cover.loop_timeout == 1'500'000);
  BOOST_TEST(c.cover.alarm_loss == 0.1);
  BOOST_TEST(c.cover.alarm_latency == 750'000);
  BOOST_TEST_REQUIRE(c.recipients.size() == 2u);
  const auto& aci = c.recipients.at("6a0e2c4b-1f3d-4e5a-8b7c-9d0e1f2a3b4c");
  BOOST_TEST(!aci.unrestricted);
  BOOST_TEST(test::hexs(aci.access_key) == "00112233445566778899aabbccddeeff");
  BOOST_TEST(c.recipients.at("PNI:1b2c3d4e-5f60-4172-8394-a5b6c7d8e9f0").unrestricted);
  // From the directory file.
  BOOST_TEST(c.directory.size() == 3u);
  BOOST_TEST(c.epoch_timing.overlap == 900'000'000);
  BOOST_TEST(c.epoch == kCurrentEpoch);
  BOOST_TEST(c.network == "veil-test");
  BOOST_TEST(c.directory_serial == 7u);
}

BOOST_AUTO_TEST_CASE(minimal_config_takes_the_defaults) {
  Scratch s;
  const RelayConfig c = valid("name = \"mix-1\"\n"
                              "peer_listen = \"127.0.0.1:7601\"\n"
                              "key_dir = \"" + s.key_dir("mix-1") + "\"\n"
                              "directory_file = \"" + s.directory_file + "\"\n"
                              "directory_authorities = " + s.authorities_toml() + "\n"
                              "run_without_journal = true\n");
  const RelayConfig d;
  BOOST_TEST(c.name == "mix-1");
  BOOST_TEST(c.provider.empty());
  BOOST_TEST(!c.submit_listen.enabled());
  BOOST_TEST(!c.deliver_to.enabled());
  BOOST_TEST(c.directory_threshold == d.directory_threshold);
  BOOST_TEST(c.epoch_overlap == d.epoch_overlap);
  BOOST_TEST(c.link_handshake_timeout == d.link_handshake_timeout);
  BOOST_TEST(c.plain_links == d.plain_links);
  BOOST_TEST(!c.plain_links);  // TLS links unless the config says otherwise
  BOOST_TEST(c.packet_size == d.packet_size);
  BOOST_TEST(c.timestamp_quantum_ms == d.timestamp_quantum_ms);
  BOOST_TEST(c.mix_hops == d.mix_hops);
  BOOST_TEST((c.mix.strategy == d.mix.strategy));
  BOOST_TEST(c.mix.threshold == d.mix.threshold);
  BOOST_TEST(c.mix.interval == d.mix.interval);
  BOOST_TEST(c.mix.probability == d.mix.probability);
  BOOST_TEST(c.mix.min_pool == d.mix.min_pool);
  BOOST_TEST(c.mix.mean_delay == d.mix.mean_delay);
  BOOST_TEST(c.cover.drop_rate == d.cover.drop_rate);
  BOOST_TEST(c.cover.loop_rate == d.cover.loop_rate);
  BOOST_TEST(c.cover.loop_timeout == d.cover.loop_timeout);
  BOOST_TEST(c.cover.alarm_loss == d.cover.alarm_loss);
  BOOST_TEST(c.cover.alarm_latency == d.cover.alarm_latency);
  BOOST_TEST(c.per_peer_queue == d.per_peer_queue);
  BOOST_TEST(c.crypto_workers == d.crypto_workers);
  BOOST_TEST(c.max_replay_entries == d.max_replay_entries);
  BOOST_TEST(c.deliver_retry == d.deliver_retry);
  BOOST_TEST(c.recipients.empty());
  BOOST_TEST(c.metrics_file.empty());
  BOOST_TEST(c.metrics_interval == d.metrics_interval);
}

BOOST_AUTO_TEST_CASE(the_helper_configs_are_valid) {
  Scratch s;
  valid(s.mix_config());
  valid(s.provider_config());
}

BOOST_AUTO_TEST_CASE(a_mix_config_takes_its_peers_and_epochs_from_the_directory) {
  Scratch s;
  const RelayConfig c = valid(s.mix_config());
  // In the directory's order: create_directory sorts the relays by name.
  BOOST_TEST_REQUIRE(c.directory.size() == 3u);
  check_peer(c.directory[0], "mix-1", s.key_dir("mix-1"));
  BOOST_TEST(c.directory[0].host == "127.0.0.1");
  BOOST_TEST(c.directory[0].port == 7601u);
  BOOST_TEST(c.directory[0].providers.empty());
  BOOST_TEST(c.directory[0].is_mix());
  check_peer(c.directory[1], "relay-alpha", s.key_dir("relay-alpha"));
  BOOST_TEST(c.directory[1].host == "127.0.0.1");
  BOOST_TEST(c.directory[1].port == 7401u);
  BOOST_TEST((c.directory[1].providers == std::vector<std::string>{"alpha.example"}));
  check_peer(c.directory[2], "relay-beta", s.key_dir("relay-beta"));
  BOOST_TEST(c.directory[2].host == "::1");
  BOOST_TEST(c.directory[2].port == 7701u);
  BOOST_TEST((c.directory[2].providers == std::vector<std::string>{"beta.example"}));
  BOOST_TEST(!c.directory[2].is_mix());

  BOOST_TEST(c.epoch_timing.genesis == kGenesis * kMicrosPerSecond);
  BOOST_TEST(c.epoch_timing.length == kEpochLength * kMicrosPerSecond);
  BOOST_TEST(c.epoch_timing.overlap == RelayConfig{}.epoch_overlap);
  BOOST_TEST(c.epoch_timing.fixed == 0u);
  BOOST_TEST(c.epoch == kCurrentEpoch);
  BOOST_TEST(c.network == "veil-test");
  BOOST_TEST(c.directory_serial == 7u);
}

BOOST_AUTO_TEST_CASE(a_provider_config_takes_its_peers_and_epochs_from_the_directory) {
  Scratch s;
  const RelayConfig c = valid(s.provider_config("mix_hops = 1"));
  BOOST_TEST(c.mix_hops == 1u);
  BOOST_TEST_REQUIRE(c.directory.size() == 3u);
  check_peer(c.directory[0], "mix-1", s.key_dir("mix-1"));
  check_peer(c.directory[1], "relay-alpha", s.key_dir("relay-alpha"));
  check_peer(c.directory[2], "relay-beta", s.key_dir("relay-beta"));
  BOOST_TEST(c.directory[0].is_mix());
  BOOST_TEST((c.directory[1].providers == std::vector<std::string>{"alpha.example"}));
  BOOST_TEST(c.directory[2].host == "::1");
  BOOST_TEST(c.directory[2].port == 7701u);
  BOOST_TEST((c.directory[2].providers == std::vector<std::string>{"beta.example"}));
  BOOST_TEST(c.epoch_timing.genesis == kGenesis * kMicrosPerSecond);
  BOOST_TEST(c.epoch_timing.length == kEpochLength * kMicrosPerSecond);
  BOOST_TEST(c.epoch == kCurrentEpoch);
}

BOOST_AUTO_TEST_CASE(the_epoch_is_the_one_at_now) {
  Scratch s;
  BOOST_TEST(valid(s.mix_config(), kValidAfter).epoch == 0u);
  BOOST_TEST(valid(s.mix_config(), kGenesis + kEpochLength).epoch == 1u);  // a boundary starts its epoch
  BOOST_TEST(valid(s.mix_config(), kValidUntil - 1).epoch == kEpochs - 1);
}

BOOST_AUTO_TEST_CASE(durability_is_never_off_by_omission) {
  Scratch s;
  const std::string no_journal = replaced(s.mix_config(), "journal_dir", "# journal_dir");
  BOOST_TEST(only_problem(no_journal).rfind("journal_dir: required (or run_without_journal = true", 0) == 0u);
  const RelayConfig c = valid(replaced(no_journal, "# journal_dir", "run_without_journal = true\n# "));
  BOOST_TEST(c.run_without_journal);
  BOOST_TEST(c.journal_dir.empty());
  BOOST_TEST(only_problem(s.mix_config("run_without_journal = true")) ==
             "run_without_journal: true contradicts journal_dir (leave one out)");
  BOOST_TEST(only_problem(s.mix_config("run_without_journal = \"yes\"")) ==
             "run_without_journal: expected true or false, found a string");
  BOOST_TEST(!valid(s.mix_config("run_without_journal = false")).run_without_journal);
  const RelayConfig d = valid(s.mix_config("journal_commit_window_ms = 0.5\ndrain_timeout_ms = 100"));
  BOOST_TEST(d.journal_commit_window == 500);
  BOOST_TEST(d.drain_timeout == 100'000);
  // What the journal would refuse at start, --check says already.
  const std::string open_dir = (s.dir / "shared").string();
  fs::create_directory(open_dir);
  fs::permissions(open_dir, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec);
  BOOST_TEST(only_problem(replaced(s.mix_config(), s.journal, open_dir)) ==
             "journal_dir: " + open_dir + " must be accessible by its owner only (chmod 700)");
  const std::string orphan = (s.dir / "no" / "journal").string();
  BOOST_TEST(only_problem(replaced(s.mix_config(), s.journal, orphan)) ==
             "journal_dir: " + orphan + ": cannot be created: its parent directory does not exist");
  BOOST_TEST(only_problem(replaced(s.mix_config(), s.journal, s.directory_file)) ==
             "journal_dir: " + s.directory_file + " is not a directory");
  BOOST_TEST(only_problem(s.mix_config("journal_commit_window_ms = 2000")).rfind(
                 "journal_commit_window_ms: 2000 is out of range", 0) == 0u);
}

BOOST_AUTO_TEST_CASE(unknown_keys_are_named_by_full_path) {
  Scratch s;
  BOOST_TEST(only_problem(s.mix_config("nmae = \"x\"")) == "nmae: unknown key (did you mean name?)");
  BOOST_TEST(only_problem(s.mix_config("colour = \"blue\"")) == "colour: unknown key");
  BOOST_TEST(only_problem(s.mix_config("directory_treshold = 2")) ==
             "directory_treshold: unknown key (did you mean directory_threshold?)");
  BOOST_TEST(only_problem(s.mix_config("plain_link = true")) == "plain_link: unknown key (did you mean plain_links?)");
  BOOST_TEST(only_problem(s.mix_config("", "[mix]\nstrategy = \"none\"\nflush = 3")) == "mix.flush: unknown key");
  BOOST_TEST(only_problem(s.mix_config("", "[cover]\ndrop_rat = 1")) ==
             "cover.drop_rat: unknown key (did you mean drop_rate?)");
  BOOST_TEST(only_problem(s.mix_config("", "[metrics]\nfile = \"m.json\"")) == "metrics: unknown key");
  // A key of a table written at the top level is unknown there.
  BOOST_TEST(only_problem(s.mix_config("strategy = \"none\"")) == "strategy: unknown key");
  // The keys of the static directory are gone: the directory comes from directory_file.
  const auto old = problems_of(s.mix_config("epoch_key_file = \"/etc/veil/epoch.priv\"\nepoch = 3",
                                            "[[directory]]\nname = \"mix-1\"\naddress = \"127.0.0.1:7601\"\n"));
  BOOST_TEST(old == (std::vector<std::string>{
                        "directory: unknown key (the directory is a signed file now: directory_file, docs/directory.md)",
                        "epoch: unknown key (epochs follow the directory's schedule now)",
                        "epoch_key_file: unknown key (epoch keys live in key_dir now: veil relay-keys init)"}),
             joined(old));
}

BOOST_AUTO_TEST_CASE(misspelt_mix_keys_are_two_problems) {
  Scratch s;
  // Read leniently, this would run a Poisson mix with its defaults instead of a threshold mix.
  const auto p = problems_of(s.mix_config("", "[mix]\nstratgy = \"threshold\"\ntreshold = 5"));
  BOOST_TEST_REQUIRE(p.size() == 2u, joined(p));
  BOOST_TEST(reports(p, "mix.stratgy", "unknown key"));
  BOOST_TEST(reports(p, "mix.treshold", "unknown key"));
  BOOST_TEST(reports(p, "mix.stratgy", "did you mean strategy?"));
  BOOST_TEST(reports(p, "mix.treshold", "did you mean threshold?"));
}

BOOST_AUTO_TEST_CASE(wrong_types) {
  Scratch s;
  BOOST_TEST(only_problem(s.mix_config("packet_size = \"4096\"")) ==
             "packet_size: expected an integer, found a string");
  BOOST_TEST(only_problem(s.mix_config("packet_size = 4096.0")) ==
             "packet_size: expected an integer, found a float");
  BOOST_TEST(only_problem(s.mix_config("metrics_file = 5")) == "metrics_file: expected a string, found an integer");
  BOOST_TEST(only_problem(s.mix_config("", "[cover]\ndrop_rate = \"2\"")) ==
             "cover.drop_rate: expected a number, found a string");
  BOOST_TEST(only_problem(s.mix_config("mix = \"poisson\"")) == "mix: expected a table, found a string");
  BOOST_TEST(only_problem(s.mix_config("", "[mix]\nstrategy = true")) ==
             "mix.strategy: expected a string, found a boolean");
  BOOST_TEST(only_problem(s.mix_config("plain_links = \"yes\"")) == "plain_links: expected true or false, found a string");
  BOOST_TEST(only_problem(s.mix_config("directory_threshold = 2.0")) ==
             "directory_threshold: expected an integer, found a float");
  BOOST_TEST(only_problem(s.mix_config("link_handshake_timeout_ms = \"5s\"")) ==
             "link_handshake_timeout_ms: expected a number, found a string");
  BOOST_TEST(only_problem(replaced(s.mix_config(), "\"" + s.key_dir("mix-1") + "\"", "7")) ==
             "key_dir: expected a string, found an integer");
  BOOST_TEST(only_problem(replaced(s.mix_config(), "\"" + s.directory_file + "\"", "[\"a\"]")) ==
             "directory_file: expected a string, found an array");
  BOOST_TEST(only_problem(s.mix_config("peer_listen_backlog = 1")).find("unknown key") != std::string::npos);
  BOOST_TEST(only_problem(s.mix_config("log_level = \"loud\"")) ==
             "log_level: \"loud\" is not a level (one of debug, info, warn, error)");
  BOOST_TEST(only_problem(s.mix_config("admin_listen = \"localhost:1\"")).rfind("admin_listen: ", 0) == 0u);
  // Integers are numbers: a whole number of milliseconds or packets per second is fine.
  const RelayConfig c = valid(s.mix_config("deliver_retry_ms = 3", "[cover]\ndrop_rate = 4"));
  BOOST_TEST(c.deliver_retry == 3000);
  BOOST_TEST(c.cover.drop_rate == 4.0);
}

BOOST_AUTO_TEST_CASE(out_of_range) {
  Scratch s;
  BOOST_TEST(only_problem(s.mix_config("packet_size = 100")) == "packet_size: 100 is out of range (512..65536)");
  BOOST_TEST(only_problem(s.mix_config("packet_size = 65537")) == "packet_size: 65537 is out of range (512..65536)");
  valid(s.mix_config("packet_size = 512"));
  valid(s.mix_config("packet_size = 65536"));
  BOOST_TEST(only_problem(s.mix_config("crypto_workers = 129")) == "crypto_workers: 129 is out of range (0..128)");
  BOOST_TEST(only_problem(s.mix_config("crypto_workers = -1")) == "crypto_workers: -1 is out of range (0..128)");
  BOOST_TEST(only_problem(s.mix_config("timestamp_quantum_ms = 0")) ==
             "timestamp_quantum_ms: 0 is out of range (≥ 1)");
  BOOST_TEST(only_problem(s.mix_config("", "[mix]\nprobability = 0")) ==
             "mix.probability: 0 is out of range (> 0, ≤ 1)");
  BOOST_TEST(only_problem(s.mix_config("", "[mix]\nprobability = nan")) ==
             "mix.probability: nan is out of range (> 0, ≤ 1)");
  BOOST_TEST(only_problem(s.mix_config("", "[mix]\nthreshold = 0")) == "mix.threshold: 0 is out of range (1..1000000000)");
  BOOST_TEST(only_problem(s.mix_config("", "[mix]\nmean_delay_ms = -1")) ==
             "mix.mean_delay_ms: -1 is out of range (0..86400000)");
  BOOST_TEST(only_problem(s.mix_config("", "[cover]\nalarm_loss = 1.5")) == "cover.alarm_loss: 1.5 is out of range (0..1)");
  BOOST_TEST(only_problem(s.mix_config("", "[cover]\nloop_rate = inf")) ==
             "cover.loop_rate: inf is out of range (0..1000000)");
  BOOST_TEST(only_problem(s.mix_config("mix_hops = 17")) == "mix_hops: 17 is out of range (0..16)");
  BOOST_TEST(only_problem(s.mix_config("directory_threshold = 17")) ==
             "directory_threshold: 17 is out of range (0..16)");
  BOOST_TEST(only_problem(s.mix_config("directory_threshold = -1")) ==
             "directory_threshold: -1 is out of range (0..16)");
  BOOST_TEST(only_problem(s.mix_config("epoch_overlap_ms = -1")) ==
             "epoch_overlap_ms: -1 is out of range (0..302400000)");
  BOOST_TEST(only_problem(s.mix_config("epoch_overlap_ms = 302400001")) ==
             "epoch_overlap_ms: 302400001 is out of range (0..302400000)");
  BOOST_TEST(only_problem(s.mix_config("link_handshake_timeout_ms = 0")) ==
             "link_handshake_timeout_ms: 0 is out of range (> 0, ≤ 600000)");
  BOOST_TEST(only_problem(s.mix_config("link_handshake_timeout_ms = 600001")) ==
             "link_handshake_timeout_ms: 600001 is out of range (> 0, ≤ 600000)");
  BOOST_TEST(valid(s.mix_config("link_handshake_timeout_ms = 600000")).link_handshake_timeout == 600'000'000);
  BOOST_TEST(valid(s.mix_config("epoch_overlap_ms = 0")).epoch_overlap == 0);
}

BOOST_AUTO_TEST_CASE(mix_parameters_are_checked_as_make_mix_checks_them) {
  Scratch s;
  // 0.0001 ms is in the key's range but rounds to a 0 µs period, which no timed mix can run.
  BOOST_TEST(only_problem(s.mix_config("", "[mix]\nstrategy = \"timed\"\ninterval_ms = 0.0001")) ==
             "mix.interval_ms: must be positive for strategy timed");
  BOOST_TEST(only_problem(s.mix_config("", "[mix]\nstrategy = \"shuffle\"")) ==
             "mix.strategy: unknown strategy \"shuffle\" (one of none, threshold, timed, threshold_or_timed, "
             "binomial, poisson)");
  MixConfig m;
  m.strategy = MixConfig::Strategy::threshold_or_timed;
  m.threshold = 0;
  m.interval = 0;
  const auto p = validate_mix(m);
  BOOST_TEST_REQUIRE(p.size() == 2u);
  BOOST_TEST(p[0] == "threshold: must be at least 1 for strategy threshold_or_timed");
  BOOST_TEST(p[1] == "interval_ms: must be positive for strategy threshold_or_timed");
  m.strategy = MixConfig::Strategy::poisson;  // uses neither
  BOOST_TEST(validate_mix(m).empty());
}

BOOST_AUTO_TEST_CASE(missing_required_keys) {
  Scratch s;
  const auto none = problems_of("");
  BOOST_TEST(none == (std::vector<std::string>{
                         "name: required key is missing", "peer_listen: required key is missing",
                         "key_dir: required key is missing", "directory_file: required key is missing",
                         "directory_authorities: required key is missing",
                         "journal_dir: required (or run_without_journal = true, for a relay that may lose "
                         "what it accepted when it crashes or restarts)"}),
             joined(none));

  BOOST_TEST(only_problem(replaced(s.mix_config(), "name = \"mix-1\"", "name = \"\"")) == "name: must not be empty");
  BOOST_TEST(only_problem(replaced(s.mix_config(), "\"" + s.key_dir("mix-1") + "\"", "\"\"")) ==
             "key_dir: must not be empty");
  BOOST_TEST(only_problem(replaced(s.mix_config(), "\"" + s.directory_file + "\"", "\"\"")) ==
             "directory_file: must not be empty");
  BOOST_TEST(only_problem(replaced(s.mix_config(), "directory_file", "# directory_file")) ==
             "directory_file: required key is missing");
  BOOST_TEST(only_problem(replaced(s.mix_config(), "key_dir", "# key_dir")) == "key_dir: required key is missing");
  BOOST_TEST(only_problem(replaced(s.mix_config(), "directory_authorities", "# directory_authorities")) ==
             "directory_authorities: required key is missing");
  // deliver_to: required once provider is set.
  BOOST_TEST(only_problem(replaced(s.provider_config(), "deliver_to", "# deliver_to")) ==
             "deliver_to: required for a provider relay (provider is set)");
}

BOOST_AUTO_TEST_CASE(provider_keys_on_a_mix) {
  Scratch s;
  BOOST_TEST(only_problem(s.mix_config("deliver_to = \"127.0.0.1:7500\"")) ==
             "deliver_to: only a provider relay uses this key (set provider, or leave it out)");
  BOOST_TEST(only_problem(s.mix_config("submit_listen = \"127.0.0.1:7400\"")) ==
             "submit_listen: only a provider relay uses this key (set provider, or leave it out)");
  BOOST_TEST(only_problem(s.mix_config("", "[recipients]\n\"6a0e2c4b-1f3d-4e5a-8b7c-9d0e1f2a3b4c\" = "
                                           "\"unrestricted\"")) ==
             "recipients: only a provider relay uses this key (set provider, or leave it out)");
  valid(s.mix_config("recipients = {}"));  // an empty table is no setting
}

BOOST_AUTO_TEST_CASE(bad_endpoints) {
  Scratch s;
  // The first "127.0.0.1:7601" of mix_config() is peer_listen.
  const auto listen = [&](const std::string& v) { return only_problem(replaced(s.mix_config(), "127.0.0.1:7601", v)); };
  BOOST_TEST(listen("localhost:7601") ==
             "peer_listen: \"localhost\" is not a numeric IPv4 address (host names are not resolved)");
  BOOST_TEST(listen("127.0.0.1") == "peer_listen: expected \"host:port\" or \"unix:/path\"");
  BOOST_TEST(listen("127.0.0.1:70000") == "peer_listen: port \"70000\" is not a number within 0..65535");
  BOOST_TEST(listen("127.0.0.1:") == "peer_listen: port \"\" is not a number within 0..65535");
  BOOST_TEST(listen("127.0.0.1:+80") == "peer_listen: port \"+80\" is not a number within 0..65535");
  BOOST_TEST(listen("::1:7601") == "peer_listen: an IPv6 host goes in brackets: [::1]:7601");
  BOOST_TEST(listen("[::g]:7601") == "peer_listen: \"::g\" is not a numeric IPv6 address");
  BOOST_TEST(listen("[::1]7601") ==
             "peer_listen: expected \"host:port\" or \"unix:/path\" (an IPv6 host as [address]:port)");
  BOOST_TEST(listen("unix:") == "peer_listen: empty unix socket path");
  BOOST_TEST(listen("unix:/" + std::string(200, 'x')) == "peer_listen: unix socket path longer than 107 bytes");
  valid(replaced(s.mix_config(), "127.0.0.1:7601", "[::]:0"));
  valid(replaced(s.mix_config(), "127.0.0.1:7601", "unix:/run/veil/peer.sock"));

  // Dialled endpoints need a port.
  BOOST_TEST(only_problem(replaced(s.provider_config(), "127.0.0.1:7500", "127.0.0.1:0")) ==
             "deliver_to: port 0 is only for a listening socket");
  valid(replaced(s.provider_config(), "127.0.0.1:7500", "unix:/run/veil/deliver.sock"));
}

BOOST_AUTO_TEST_CASE(the_messenger_interfaces_are_local_unless_allowed) {
  Scratch s;
  const std::string remote_submit = "submit_listen = \"0.0.0.0:7400\"";
  const std::string why =
      " is not a loopback address: the messenger server's interfaces take a Unix socket or loopback "
      "TCP (allow_remote_messenger = true accepts it, unencrypted on that network)";
  BOOST_TEST(only_problem(s.provider_config(remote_submit)) == "submit_listen: 0.0.0.0" + why);
  BOOST_TEST(only_problem(s.provider_config("submit_listen = \"[2001:db8::1]:7400\"")) ==
             "submit_listen: 2001:db8::1" + why);
  BOOST_TEST(only_problem(replaced(s.provider_config(), "127.0.0.1:7500", "192.0.2.10:7500")) ==
             "deliver_to: 192.0.2.10" + why);
  // Loopback in any form, and Unix sockets, are local.
  for (const char* local : {"127.0.0.1:7400", "127.8.9.10:7400", "[::1]:7400", "[::ffff:127.0.0.1]:7400",
                            "unix:/run/veil/submit.sock"}) {
    valid(s.provider_config(std::string("submit_listen = \"") + local + "\""));
  }
  BOOST_TEST(only_problem(s.provider_config("submit_listen = \"[::ffff:192.0.2.1]:7400\"")) ==
             "submit_listen: ::ffff:192.0.2.1" + why);
  // Said explicitly, it is taken.
  valid(s.provider_config(remote_submit + "\nallow_remote_messenger = true"));
  // The peer port is for the world.
  valid(replaced(s.provider_config(), "127.0.0.1:7401", "0.0.0.0:7401"));
}

BOOST_AUTO_TEST_CASE(a_remote_admin_endpoint_is_refused_unless_allowed) {
  Scratch s;
  const std::string why =
      " is not a loopback address: the admin endpoint has no authentication and takes a Unix socket "
      "or loopback TCP (allow_remote_admin = true accepts it, for a scraper behind a firewall)";
  BOOST_TEST(only_problem(s.provider_config("admin_listen = \"0.0.0.0:9400\"")) == "admin_listen: 0.0.0.0" + why);
  BOOST_TEST(only_problem(s.provider_config("admin_listen = \"[2001:db8::1]:9400\"")) ==
             "admin_listen: 2001:db8::1" + why);
  BOOST_TEST(valid(s.provider_config("admin_listen = \"127.0.0.2:9400\"")).admin_listen.port == 9400);
  BOOST_TEST(valid(s.provider_config("admin_listen = \"[::1]:9400\"")).admin_listen.host == "::1");
  BOOST_TEST(valid(s.provider_config("admin_listen = \"unix:/run/veil/admin.sock\"")).admin_listen.unix_path ==
             "/run/veil/admin.sock");
  // Said explicitly, it is taken; allow_remote_messenger does not stand in for it.
  BOOST_TEST(valid(s.provider_config("admin_listen = \"0.0.0.0:9400\"\nallow_remote_admin = true")).allow_remote_admin);
  BOOST_TEST(only_problem(s.provider_config("admin_listen = \"0.0.0.0:9400\"\nallow_remote_messenger = true")) ==
             "admin_listen: 0.0.0.0" + why);
}

BOOST_AUTO_TEST_CASE(unix_socket_mode_is_owner_and_group_only) {
  Scratch s;
  BOOST_TEST(valid(s.provider_config("unix_socket_mode = \"0600\"")).unix_socket_mode == 0600u);
  BOOST_TEST(valid(s.provider_config("unix_socket_mode = \"660\"")).unix_socket_mode == 0660u);
  BOOST_TEST(valid(s.provider_config()).unix_socket_mode == 0660u);
  BOOST_TEST(only_problem(s.provider_config("unix_socket_mode = \"0666\"")) ==
             "unix_socket_mode: \"0666\" must let the owner read and write and give others nothing (the "
             "group's bits are yours to choose)");
  BOOST_TEST(only_problem(s.provider_config("unix_socket_mode = \"0460\"")) ==
             "unix_socket_mode: \"0460\" must let the owner read and write and give others nothing (the "
             "group's bits are yours to choose)");
  for (const char* bad : {"0o660", "0680", "66", "01660", ""}) {
    BOOST_TEST(only_problem(s.provider_config(std::string("unix_socket_mode = \"") + bad + "\"")) ==
               std::string("unix_socket_mode: \"") + bad +
                   "\" is not a file mode (3 or 4 octal digits, e.g. \"0660\")");
  }
  BOOST_TEST(only_problem(s.provider_config("unix_socket_mode = 432")) ==
             "unix_socket_mode: expected a string, found an integer");
}

BOOST_AUTO_TEST_CASE(limits_are_read_and_checked) {
  Scratch s;
  const RelayConfig c = valid(s.provider_config("", "[limits]\npeer_connections = 10\npeer_connections_per_source = 2\n"
                                                    "submit_connections = 4\nframe_timeout_ms = 1500\n"
                                                    "unread_bytes = 100000\nsubmit_rate = 2.5\nsubmit_burst = 7"));
  BOOST_TEST(c.limits.peer_connections == 10u);
  BOOST_TEST(c.limits.peer_connections_per_source == 2u);
  BOOST_TEST(c.limits.submit_connections == 4u);
  BOOST_TEST(c.limits.frame_timeout == 1'500'000);
  BOOST_TEST(c.limits.unread_bytes == 100000u);
  BOOST_TEST(c.limits.submit_rate == 2.5);
  BOOST_TEST(c.limits.submit_burst == 7u);
  BOOST_TEST(only_problem(s.provider_config("", "[limits]\npeer_connections = 0")) ==
             "limits.peer_connections: 0 is out of range (1..1000000)");
  BOOST_TEST(only_problem(s.provider_config("", "[limits]\nunread_bytes = 1000")) ==
             "limits.unread_bytes: 1000 is out of range (65536..10000000000)");
  BOOST_TEST(only_problem(s.provider_config("", "[limits]\nframe_timeout = 5")) == "limits.frame_timeout: unknown key");
}

BOOST_AUTO_TEST_CASE(bad_directory_authorities) {
  Scratch s;
  const std::string good = s.authorities_toml();
  const auto with = [&](const std::string& value) { return problems_of(replaced(s.mix_config(), good, value)); };
  const std::string a0 = "\"" + s.authority_hex(0) + "\"";
  const std::string a1 = "\"" + s.authority_hex(1) + "\"";
  BOOST_TEST(with("[\"zz\"]") == std::vector<std::string>{
                                     "directory_authorities[0]: not an Ed25519 public key (expected 64 hex digits)"});
  // 31 bytes, 33 bytes, and a 33-byte epoch public key (0x05 first) are no identity keys.
  BOOST_TEST(with("[" + a0 + ", \"" + s.authority_hex(1).substr(2) + "\"]") ==
             std::vector<std::string>{"directory_authorities[1]: not an Ed25519 public key (expected 64 hex digits)"});
  BOOST_TEST(with("[\"" + s.authority_hex(0) + "00\"]") ==
             std::vector<std::string>{"directory_authorities[0]: not an Ed25519 public key (expected 64 hex digits)"});
  BOOST_TEST(with("[\"05" + s.authority_hex(0) + "\"]") ==
             std::vector<std::string>{"directory_authorities[0]: not an Ed25519 public key (expected 64 hex digits)"});
  BOOST_TEST(with("[" + a0 + ", " + a1 + ", " + a0 + "]") ==
             std::vector<std::string>{"directory_authorities[2]: listed twice"});
  BOOST_TEST(with("[]") == std::vector<std::string>{"directory_authorities: must list at least one key"});
  // The example config's placeholder says what it is.
  BOOST_TEST(with("[" + a0 + ", \"" + std::string(64, '0') + "\"]") ==
             std::vector<std::string>{"directory_authorities[1]: the all-zero placeholder of the example config: "
                                      "replace it with an authority's key (the hex after veil-authority-key/1 in its "
                                      "AUTH.pub)"});
  BOOST_TEST(with(a0) == std::vector<std::string>{"directory_authorities: expected an array of strings, found a string"});
  const auto several = with("[" + a0 + ", 5, \"x\"]");
  BOOST_TEST(several == (std::vector<std::string>{
                            "directory_authorities[1]: expected a string, found an integer",
                            "directory_authorities[2]: not an Ed25519 public key (expected 64 hex digits)"}),
             joined(several));
  // Hex in upper case is the same key.
  std::string upper = s.authority_hex(0);
  std::transform(upper.begin(), upper.end(), upper.begin(), [](unsigned char ch) { return static_cast<char>(std::toupper(ch)); });
  const RelayConfig c = valid(replaced(s.mix_config(), good, "[\"" + upper + "\", " + a1 + "]"));
  BOOST_TEST_REQUIRE(c.directory_authorities.size() == 2u);
  BOOST_TEST((c.directory_authorities[0] == s.authorities[0].public_key()));
}

BOOST_AUTO_TEST_CASE(every_problem_is_one_printable_line) {
  // toml++ quotes the character it stopped at, here a line feed (found by fuzz_config).
  BOOST_TEST(problems_of("naoe0= t\n") ==
             std::vector<std::string>{"line 1, column 9: Error while parsing boolean: expected 'true', saw 't\\x0a'"});
  // Text that is not UTF-8 is a syntax error (TOML is UTF-8), and no raw byte of it is echoed.
  Scratch s;
  const std::string p = only_problem(s.mix_config("", "[mix]\nstrategy = \"\xff\""));
  BOOST_TEST(p.find("invalid utf-8") != std::string::npos, p);
  BOOST_TEST(p.find('\xff') == std::string::npos, p);
}

BOOST_AUTO_TEST_CASE(bad_recipients) {
  Scratch s;
  const auto recipient = [&](const std::string& lines) {
    return only_problem(s.provider_config("", "[recipients]\n" + lines));
  };
  // A problem names the entry by its line, never by the service id (problem lines reach logs).
  const auto line_of = [](const std::string& problem) {
    const std::string head = "recipients (line ";
    BOOST_TEST_REQUIRE(problem.rfind(head, 0) == 0u, problem);
    return std::stoi(problem.substr(head.size()));
  };
  const auto what = [](const std::string& problem) { return problem.substr(problem.find("): ") + 3); };
  const std::string bad_id = recipient("\"alice\" = \"unrestricted\"");
  BOOST_TEST(what(bad_id) == "not a service id (a UUID, or PNI: and a UUID)");
  BOOST_TEST(bad_id.find("alice") == std::string::npos);
  const std::string open = recipient("\"6a0e2c4b-1f3d-4e5a-8b7c-9d0e1f2a3b4c\" = \"open\"");
  BOOST_TEST(what(open) == "expected a 16-byte access key in hex (32 digits) or \"unrestricted\"");
  BOOST_TEST(open.find("6a0e2c4b") == std::string::npos);
  BOOST_TEST(what(recipient("\"6a0e2c4b-1f3d-4e5a-8b7c-9d0e1f2a3b4c\" = \"0011\"")) ==
             "expected a 16-byte access key in hex (32 digits) or \"unrestricted\"");
  BOOST_TEST(what(recipient("\"6a0e2c4b-1f3d-4e5a-8b7c-9d0e1f2a3b4c\" = 5")) == "expected a string, found an integer");
  // Service ids are case-insensitive: an upper-case one is the same recipient (stored in canonical
  // form), and the two spellings of one are a duplicate.
  const std::string dup = recipient("\"6a0e2c4b-1f3d-4e5a-8b7c-9d0e1f2a3b4c\" = \"unrestricted\"\n"
                                    "\"6A0E2C4B-1F3D-4E5A-8B7C-9D0E1F2A3B4C\" = \"unrestricted\"");
  // (toml++ visits a table's keys in sorted order, so either line may be the one named.)
  const std::string same = "the same service id as line ";
  BOOST_TEST_REQUIRE(what(dup).rfind(same, 0) == 0u, dup);
  BOOST_TEST(std::abs(std::stoi(what(dup).substr(same.size())) - line_of(dup)) == 1);
  const RelayConfig upper = valid(s.provider_config("", "[recipients]\n\"PNI:6A0E2C4B-1F3D-4E5A-8B7C-9D0E1F2A3B4C\" = \"unrestricted\""));
  BOOST_TEST(upper.recipients.count("PNI:6a0e2c4b-1f3d-4e5a-8b7c-9d0e1f2a3b4c") == 1u);
  BOOST_TEST(only_problem(s.provider_config("recipients = [\"x\"]")) ==
             "recipients: expected a table of service id = access key, found an array");
}

BOOST_AUTO_TEST_CASE(the_directory_needs_enough_listed_authorities) {
  Scratch s;
  const std::string all = s.authorities_toml();
  // Signed by authorities 0 and 1; a config that trusts only an unrelated key counts none.
  const crypto::IdentityKey outsider = crypto::IdentityKey::generate(s.rng);
  BOOST_TEST(only_problem(replaced(s.mix_config(), all, "[\"" + to_hex(outsider.public_key().raw()) + "\"]")) ==
             "directory_file: insufficient_signatures: 0 valid signatures by listed authorities (of 2 in the "
             "file); 1 needed");
  // Trusting authority 2 only, which did not sign.
  BOOST_TEST(only_problem(replaced(s.mix_config(), all, s.authorities_toml({2}))) ==
             "directory_file: insufficient_signatures: 0 valid signatures by listed authorities (of 2 in the "
             "file); 1 needed");
  // One signature where 2 of 3 are needed: the majority by default, or set explicitly.
  const std::string one = s.sign_directory("one-signature.json",
                                           {s.mix_descriptor, s.alpha_descriptor, s.beta_descriptor}, {0});
  const std::string one_signature = replaced(s.mix_config(), s.directory_file, one);
  const std::string below =
      "directory_file: insufficient_signatures: 1 valid signature by listed authorities (of 1 in the file); "
      "2 needed";
  BOOST_TEST(only_problem(one_signature) == below);
  BOOST_TEST(only_problem(replaced(one_signature, all, all + "\ndirectory_threshold = 2")) == below);
  BOOST_TEST(valid(replaced(one_signature, all, all + "\ndirectory_threshold = 1")).directory.size() == 3u);
  // A majority of 2 authorities is both; of 1, that one.
  BOOST_TEST(valid(replaced(s.mix_config(), all, s.authorities_toml({0, 1}))).directory.size() == 3u);
  BOOST_TEST(only_problem(replaced(one_signature, all, s.authorities_toml({0, 1}))) ==
             "directory_file: insufficient_signatures: 1 valid signature by listed authorities (of 1 in the "
             "file); 2 needed");
  BOOST_TEST(valid(replaced(one_signature, all, s.authorities_toml({0}))).directory.size() == 3u);
  // All three asked for, two given.
  BOOST_TEST(only_problem(s.mix_config("directory_threshold = 3")) ==
             "directory_file: insufficient_signatures: 2 valid signatures by listed authorities (of 2 in the "
             "file); 3 needed");
  // More signatures asked for than authorities are listed.
  BOOST_TEST(only_problem(s.mix_config("directory_threshold = 4")) ==
             "directory_threshold: 4 signatures asked for, but 3 authorities are listed");
}

BOOST_AUTO_TEST_CASE(effective_threshold_is_a_majority_unless_set) {
  RelayConfig c;
  SeededRng rng(3);
  for (std::size_t n = 1; n <= 5; ++n) {
    c.directory_authorities.push_back(crypto::IdentityKey::generate(rng).public_key());
    BOOST_TEST(effective_threshold(c) == n / 2 + 1, n << " authorities");
  }
  c.directory_threshold = 5;
  BOOST_TEST(effective_threshold(c) == 5u);
  c.directory_threshold = 1;
  BOOST_TEST(effective_threshold(c) == 1u);
}

BOOST_AUTO_TEST_CASE(the_directory_must_be_valid_at_now) {
  Scratch s;
  BOOST_TEST(only_problem(s.mix_config(), kValidUntil) ==
             "directory_file: expired: valid until " + std::to_string(kValidUntil) + ", now is " +
                 std::to_string(kValidUntil));
  BOOST_TEST(only_problem(s.mix_config(), kValidUntil + 86'400) ==
             "directory_file: expired: valid until " + std::to_string(kValidUntil) + ", now is " +
                 std::to_string(kValidUntil + 86'400));
  BOOST_TEST(only_problem(s.mix_config(), kValidAfter - 1) ==
             "directory_file: not_yet_valid: valid from " + std::to_string(kValidAfter) + ", now is " +
                 std::to_string(kValidAfter - 1));
  valid(s.mix_config(), kValidAfter);
  valid(s.mix_config(), kValidUntil - 1);
}

BOOST_AUTO_TEST_CASE(the_directory_must_list_this_relay_under_its_identity) {
  Scratch s;
  // A directory without relay-alpha.
  const std::string without = s.sign_directory("without-alpha.json", {s.mix_descriptor, s.beta_descriptor});
  BOOST_TEST(only_problem(replaced(s.provider_config(), s.directory_file, without)) ==
             "directory_file: does not list this relay (\"relay-alpha\")");
  valid(replaced(s.mix_config(), s.directory_file, without));  // mix-1 is listed there
  // Another key directory made for the same name: the directory lists relay-alpha under the
  // identity key of the first.
  const std::string again = s.make_key_dir((s.dir / "alpha-again.keys").string(), "relay-alpha");
  BOOST_TEST(only_problem(replaced(s.provider_config(), s.key_dir("relay-alpha"), again)) ==
             "directory_file: lists \"relay-alpha\" under a different identity key from the one key_dir holds");
  // The key directory of another relay.
  BOOST_TEST(only_problem(replaced(s.mix_config(), s.key_dir("mix-1"), s.key_dir("relay-beta"))) ==
             "key_dir: holds the keys of \"relay-beta\", not of \"mix-1\"");
}

BOOST_AUTO_TEST_CASE(the_directory_must_give_this_relay_its_role) {
  Scratch s;
  // relay-alpha published as a mix, but configured as the sidecar of alpha.example.
  const std::string as_mix = s.sign_directory(
      "alpha-as-mix.json",
      {s.mix_descriptor, s.descriptor(s.key_dir("relay-alpha"), "127.0.0.1:7401"), s.beta_descriptor});
  BOOST_TEST(only_problem(replaced(s.provider_config(), s.directory_file, as_mix)) ==
             "directory_file: this relay's descriptor does not list its provider \"alpha.example\"");
  // A provider the descriptor does not serve.
  BOOST_TEST(only_problem(replaced(s.provider_config(), "\"alpha.example\"", "\"gamma.example\"")) ==
             "directory_file: this relay's descriptor does not list its provider \"gamma.example\"");
  // Among several providers of the descriptor, any one is this relay's.
  const std::string two = s.sign_directory(
      "alpha-two-providers.json",
      {s.mix_descriptor, s.descriptor(s.key_dir("relay-alpha"), "127.0.0.1:7401", {"alpha.example", "gamma.example"}),
       s.beta_descriptor});
  BOOST_TEST(valid(replaced(replaced(s.provider_config(), "\"alpha.example\"", "\"gamma.example\""),
                            s.directory_file, two))
                 .provider == "gamma.example");
  // relay-beta configured as a mix, though its descriptor serves beta.example.
  const std::string beta_as_mix =
      replaced(replaced(s.mix_config(), "\"mix-1\"", "\"relay-beta\""), s.key_dir("mix-1"), s.key_dir("relay-beta"));
  BOOST_TEST(only_problem(beta_as_mix) ==
             "directory_file: this relay's descriptor serves providers, but the config sets no provider");
}

BOOST_AUTO_TEST_CASE(epoch_overlap_is_at_most_half_an_epoch) {
  Scratch s;
  // The directory's epochs last 3600 s: at most 1800 s of overlap.
  BOOST_TEST(valid(s.mix_config("epoch_overlap_ms = 1800000")).epoch_timing.overlap == 1'800'000'000);
  BOOST_TEST(only_problem(s.mix_config("epoch_overlap_ms = 1800001")) ==
             "epoch_overlap_ms: at most half the directory's epoch, 1800000 ms");
  BOOST_TEST(only_problem(s.mix_config("epoch_overlap_ms = 1800000.5")) ==
             "epoch_overlap_ms: at most half the directory's epoch, 1800000 ms");
}

BOOST_AUTO_TEST_CASE(key_dir_must_hold_the_published_epoch_keys) {
  Scratch s;
  const std::string kd = s.key_dir("mix-1");
  const std::string current = kd + "/epochs/" + std::to_string(kCurrentEpoch) + ".priv";
  fs::remove(current);
  BOOST_TEST(only_problem(s.mix_config()) == "key_dir: no key for the current epoch 1: io_error: " + current +
                                                 ": No such file or directory");
  // Other epochs' keys are not needed at start.
  valid(s.mix_config(), kGenesis + 2 * kEpochLength);
  // A key of its own for epoch 1, but not the one the directory publishes.
  std::string why;
  BOOST_TEST_REQUIRE(store_epoch_key(kd, kCurrentEpoch, crypto::PrivateKey::generate(s.rng), &why) == Error::ok,
                     why);
  BOOST_TEST(only_problem(s.mix_config()) ==
             "directory_file: publishes a different key for this relay in epoch 1 from the one key_dir holds");
  // Every held epoch is compared, not only the current one: in epoch 0 the mismatch ahead counts.
  BOOST_TEST(only_problem(s.mix_config(), kValidAfter) ==
             "directory_file: publishes a different key for this relay in epoch 1 from the one key_dir holds");
}

BOOST_AUTO_TEST_CASE(key_dir_refusals) {
  Scratch s;
  const std::string kd = s.key_dir("mix-1");
  const auto with_key_dir = [&](const std::string& path) { return only_problem(replaced(s.mix_config(), kd, path)); };
  const std::string missing = (s.dir / "nope.keys").string();
  BOOST_TEST(with_key_dir(missing) ==
             "key_dir: io_error: relay key directory " + missing + ": No such file or directory");
  const std::string empty = (s.dir / "empty.keys").string();
  fs::create_directory(empty);
  fs::permissions(empty, fs::perms::owner_all);
  BOOST_TEST(with_key_dir(empty) == "key_dir: io_error: " + empty + "/format: No such file or directory");
  BOOST_TEST(with_key_dir(s.directory_file) ==
             "key_dir: io_error: relay key directory " + s.directory_file + ": not a directory");
  // Group access to the key directory is refused (mode bits, so also when running as root).
  fs::permissions(kd, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec);
  BOOST_TEST(only_problem(s.mix_config()) ==
             "key_dir: insecure_permissions: relay key directory " + kd +
                 ": must be accessible by its owner only (chmod 700); it is 0750");
  fs::permissions(kd, fs::perms::owner_all);
  valid(s.mix_config());
  fs::permissions(kd + "/identity.seed", fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
  BOOST_TEST(only_problem(s.mix_config()) == "key_dir: insecure_permissions: " + kd +
                                                 "/identity.seed: must be readable by its owner only (chmod 600); "
                                                 "it is 0640");
}

BOOST_AUTO_TEST_CASE(directory_file_refusals) {
  Scratch s;
  const auto with_file = [&](const std::string& path) {
    return only_problem(replaced(s.mix_config(), s.directory_file, path));
  };
  const std::string missing = (s.dir / "absent.json").string();
  BOOST_TEST(with_file(missing) == "directory_file: cannot read " + missing + ": No such file or directory");
  // A descriptor is no directory.
  BOOST_TEST(with_file(s.write_text("descriptor.json", s.mix_descriptor)) ==
             "directory_file: unknown_version: directory: format is not \"veil-directory/1\"");
  // A signature that does not verify over the body counts for nothing.
  const std::string tampered = replaced(read_text(s.directory_file), "veil-test", "veil-tess");
  BOOST_TEST(with_file(s.write_text("tampered.json", tampered)) ==
             "directory_file: insufficient_signatures: 0 valid signatures by listed authorities (of 2 in the "
             "file); 2 needed");
}

BOOST_AUTO_TEST_CASE(mix_hops_needs_a_mix_in_the_directory) {
  Scratch s;
  // mix_hops without a mix to choose would send packets without mix hops.
  const std::string no_mix = s.sign_directory("no-mix.json", {s.alpha_descriptor, s.beta_descriptor});
  const std::string text = replaced(s.provider_config("mix_hops = 1"), s.directory_file, no_mix);
  BOOST_TEST(only_problem(text) ==
             "mix_hops: 1 asked for, but the directory lists no mix relay (a relay without providers)");
  BOOST_TEST(valid(replaced(text, "mix_hops = 1", "mix_hops = 0")).directory.size() == 2u);
  BOOST_TEST(valid(s.provider_config("mix_hops = 3")).mix_hops == 3u);  // one mix serves any number of hops
}

BOOST_AUTO_TEST_CASE(the_directory_is_judged_only_when_its_keys_are_sound) {
  Scratch s;
  // An expired directory is not reported while the keys that name and judge it have problems...
  BOOST_TEST(only_problem(s.mix_config("directory_threshold = 99"), kValidUntil) ==
             "directory_threshold: 99 is out of range (0..16)");
  BOOST_TEST(only_problem(replaced(s.mix_config(), s.authorities_toml(), "[\"zz\"]"), kValidUntil) ==
             "directory_authorities[0]: not an Ed25519 public key (expected 64 hex digits)");
  BOOST_TEST(only_problem(s.mix_config("epoch_overlap_ms = -5"), kValidUntil) ==
             "epoch_overlap_ms: -5 is out of range (0..302400000)");
  BOOST_TEST(only_problem(s.mix_config("mix_hops = 17"), kValidUntil) == "mix_hops: 17 is out of range (0..16)");
  // ...but it is, together with the problems of other keys.
  const auto p = problems_of(s.mix_config("packet_size = 100"), kValidUntil);
  BOOST_TEST(p == (std::vector<std::string>{"packet_size: 100 is out of range (512..65536)",
                                            "directory_file: expired: valid until " + std::to_string(kValidUntil) +
                                                ", now is " + std::to_string(kValidUntil)}),
             joined(p));
}

BOOST_AUTO_TEST_CASE(apply_directory_leaves_the_config_unchanged_on_a_problem) {
  Scratch s;
  const RelayConfig c = valid(s.mix_config());
  const std::string text = read_text(s.directory_file);
  RelayConfig fresh;
  fresh.name = "mix-1";
  fresh.key_dir = s.key_dir("mix-1");
  fresh.directory_authorities = c.directory_authorities;
  BOOST_TEST(apply_directory(fresh, text, kValidUntil) ==
             std::vector<std::string>{"directory_file: expired: valid until " + std::to_string(kValidUntil) +
                                      ", now is " + std::to_string(kValidUntil)});
  BOOST_TEST(fresh.directory.empty());
  BOOST_TEST(fresh.network.empty());
  BOOST_TEST(fresh.epoch_timing.length == 0);
  BOOST_TEST(apply_directory(fresh, text, kNowS).empty());
  BOOST_TEST(fresh.directory.size() == c.directory.size());
  BOOST_TEST(fresh.epoch == c.epoch);
  BOOST_TEST(fresh.network == c.network);
}

BOOST_AUTO_TEST_CASE(every_problem_is_reported_at_once) {
  Scratch s;
  const std::string text =
      "name = \"relay-alpha\"\n"
      "provider = \"alpha.example\"\n"            // and no deliver_to             (1)
      "peer_listen = \"localhost:7401\"\n"        // not numeric                   (2)
      "run_without_journal = true\n"
      "key_dir = \"" + s.key_dir("relay-alpha") + "\"\n"
      "directory_file = \"" + s.directory_file + "\"\n"
      "directory_authorities = [\"" + s.authority_hex(0) + "\", \"05\"]\n"  // not a key  (3)
      "directory_threshold = 1.5\n"               // wrong type                    (4)
      "link_handshake_timeout_ms = 0\n"           // out of range                  (5)
      "plain_links = 1\n"                         // wrong type                    (6)
      "packet_size = 100\n"                       // out of range                  (7)
      "crypto_workers = \"all\"\n"                // wrong type                    (8)
      "colour = \"blue\"\n"                       // unknown                       (9)
      "[mix]\n"
      "stratgy = \"threshold\"\n"                 // unknown                       (10)
      "probability = 2\n"                         // out of range                  (11)
      "[cover]\n"
      "loop_rate = -1\n"                          // out of range                  (12)
      "[recipients]\n"
      "\"bob\" = \"unrestricted\"\n";             // not a service id              (13)
  const auto p = problems_of(text);
  BOOST_TEST(p.size() == 13u, joined(p));
  BOOST_TEST(reports(p, "deliver_to", "required for a provider relay"));
  BOOST_TEST(reports(p, "peer_listen", "not a numeric IPv4 address"));
  BOOST_TEST(reports(p, "directory_authorities[1]", "not an Ed25519 public key"));
  BOOST_TEST(reports(p, "directory_threshold", "expected an integer, found a float"));
  BOOST_TEST(reports(p, "link_handshake_timeout_ms", "out of range"));
  BOOST_TEST(reports(p, "plain_links", "expected true or false, found an integer"));
  BOOST_TEST(reports(p, "packet_size", "out of range"));
  BOOST_TEST(reports(p, "crypto_workers", "expected an integer"));
  BOOST_TEST(reports(p, "colour", "unknown key"));
  BOOST_TEST(reports(p, "mix.stratgy", "unknown key"));
  BOOST_TEST(reports(p, "mix.probability", "out of range"));
  BOOST_TEST(reports(p, "cover.loop_rate", "out of range"));
  BOOST_TEST(std::any_of(p.begin(), p.end(), [](const std::string& x) {
    return x.rfind("recipients (line ", 0) == 0 && x.find("not a service id") != std::string::npos;
  }));

  // The throwing forms carry every problem, one per line.
  try {
    parse_config(text, kNowS);
    BOOST_FAIL("parse_config accepted a bad config");
  } catch (const std::runtime_error& e) {
    BOOST_TEST(std::string(e.what()) + "\n" == joined(p));
  }
  const std::string path = s.write_text("bad.toml", text);
  BOOST_TEST(check_config_file(path, kNowS) == p);
  BOOST_CHECK_THROW(load_config(path, kNowS), std::runtime_error);
}

BOOST_AUTO_TEST_CASE(config_files_are_judged_at_the_time_given) {
  Scratch s;
  const std::string path = s.write_text("relay.toml", s.provider_config());
  BOOST_TEST(check_config_file(path, kNowS).empty());
  const RelayConfig c = load_config(path, kNowS);
  BOOST_TEST(c.name == "relay-alpha");
  BOOST_TEST(c.directory.size() == 3u);
  BOOST_TEST(c.epoch == kCurrentEpoch);
  BOOST_TEST(parse_config(s.provider_config(), kNowS).epoch == kCurrentEpoch);
  BOOST_TEST(load_config(path, kValidAfter).epoch == 0u);
  const std::string expired = "directory_file: expired: valid until " + std::to_string(kValidUntil) +
                              ", now is " + std::to_string(kValidUntil);
  BOOST_TEST(check_config_file(path, kValidUntil) == std::vector<std::string>{expired});
  try {
    load_config(path, kValidUntil);
    BOOST_FAIL("load_config accepted an expired directory");
  } catch (const std::runtime_error& e) {
    BOOST_TEST(std::string(e.what()) == expired);
  }
  BOOST_CHECK_THROW(parse_config(s.provider_config(), kValidUntil), std::runtime_error);
  const std::string missing = (s.dir / "absent.toml").string();
  BOOST_TEST(check_config_file(missing, kNowS) ==
             std::vector<std::string>{"cannot read " + missing + ": No such file or directory"});
  try {
    load_config(missing, kNowS);
    BOOST_FAIL("load_config read a missing file");
  } catch (const std::runtime_error& e) {
    BOOST_TEST(std::string(e.what()) == "cannot read " + missing + ": No such file or directory");
  }
}

BOOST_AUTO_TEST_CASE(toml_syntax_errors_name_the_line) {
  const auto p = problems_of("name = \"relay\"\npacket_size = = 4\n");
  BOOST_TEST_REQUIRE(p.size() == 1u, joined(p));
  BOOST_TEST(p[0].rfind("line 2, column ", 0) == 0, p[0]);
  const auto dup = problems_of("name = \"a\"\nname = \"b\"\n");
  BOOST_TEST_REQUIRE(dup.size() == 1u, joined(dup));
  BOOST_TEST(dup[0].rfind("line 2, column ", 0) == 0, dup[0]);
  const auto unclosed = problems_of("name = \"a\"\ndirectory_authorities = [\"00\",\n");
  BOOST_TEST_REQUIRE(unclosed.size() == 1u, joined(unclosed));
  BOOST_TEST(unclosed[0].rfind("line ", 0) == 0, unclosed[0]);
}

BOOST_AUTO_TEST_CASE(reference_lists_every_key_once) {
  const auto keys = config_reference();
  std::vector<std::string> paths;
  for (const auto& k : keys) {
    BOOST_TEST(!k.type.empty(), k.path);
    BOOST_TEST(!k.default_value.empty(), k.path);
    BOOST_TEST(!k.description.empty(), k.path);
    paths.push_back(k.path);
  }
  const std::vector<std::string> expected = {
      "name", "provider", "peer_listen", "submit_listen", "admin_listen", "deliver_to", "key_dir", "directory_file",
      "directory_authorities", "directory_threshold", "epoch_overlap_ms", "link_handshake_timeout_ms",
      "plain_links", "packet_size", "timestamp_quantum_ms", "mix_hops", "mix.strategy", "mix.threshold",
      "mix.interval_ms", "mix.probability", "mix.min_pool", "mix.mean_delay_ms", "cover.drop_rate",
      "cover.loop_rate", "cover.loop_timeout_ms", "cover.alarm_loss", "cover.alarm_latency_ms",
      "per_peer_queue", "limits.peer_connections", "limits.peer_connections_per_source",
      "limits.submit_connections", "limits.frame_timeout_ms", "limits.unread_bytes", "limits.submit_rate",
      "limits.submit_burst", "unix_socket_mode", "allow_remote_messenger", "allow_remote_admin", "crypto_workers", "max_replay_entries", "deliver_retry_ms", "recipients",
      "journal_dir", "run_without_journal", "journal_commit_window_ms", "drain_timeout_ms", "metrics_file",
      "metrics_interval_ms", "log_level"};
  BOOST_TEST(paths == expected, boost::test_tools::per_element());
  const auto find = [&](const std::string& path) {
    return *std::find_if(keys.begin(), keys.end(), [&](const ConfigKey& k) { return k.path == path; });
  };
  // Defaults come from RelayConfig, durations shown in the file's unit.
  BOOST_TEST(find("packet_size").default_value == "4096");
  BOOST_TEST(find("packet_size").range == "512..65536");
  BOOST_TEST(find("mix.mean_delay_ms").default_value == "200");
  BOOST_TEST(find("mix.mean_delay_ms").unit == "ms");
  BOOST_TEST(find("mix.strategy").default_value == "\"poisson\"");
  BOOST_TEST(find("name").default_value == "required");
  BOOST_TEST(find("deliver_to").default_value == "required for a provider");
  BOOST_TEST(find("key_dir").default_value == "required");
  BOOST_TEST(find("directory_file").default_value == "required");
  BOOST_TEST(find("directory_authorities").default_value == "required");
  BOOST_TEST(find("directory_authorities").type == "array of strings (hex)");
  BOOST_TEST(find("directory_authorities").range == "32 bytes each, distinct");
  BOOST_TEST(find("directory_threshold").default_value == "0");
  BOOST_TEST(find("directory_threshold").range == "0..16");
  BOOST_TEST(find("epoch_overlap_ms").default_value == "600000");
  BOOST_TEST(find("epoch_overlap_ms").range == "0..302400000");
  BOOST_TEST(find("link_handshake_timeout_ms").default_value == "10000");
  BOOST_TEST(find("link_handshake_timeout_ms").range == "> 0, ≤ 600000");
  BOOST_TEST(find("plain_links").default_value == "false");
  BOOST_TEST(find("plain_links").type == "boolean");
  BOOST_TEST(find("admin_listen").default_value == "\"127.0.0.1:7402\"");
  BOOST_TEST(find("admin_listen").type == "endpoint");
}

BOOST_AUTO_TEST_CASE(a_reload_is_refused_whole_for_any_problem_an_older_directory_or_another_schedule) {
  Scratch s;
  const RelayConfig running = valid(s.mix_config());
  const auto problems = [&](const std::string& text, uint64_t serial, const EpochTiming& timing) {
    RelayConfig as_running = running;
    as_running.directory_serial = serial;
    as_running.epoch_timing = timing;
    const ConfigResult r = check_reload(text, kNowS, as_running);
    const auto* p = std::get_if<ConfigProblems>(&r);
    return p ? p->problems : std::vector<std::string>{};
  };
  // The same file again, and one with another mix: accepted.
  BOOST_TEST(problems(s.mix_config(), running.directory_serial, running.epoch_timing).empty());
  const ConfigResult other =
      check_reload(s.mix_config("", "[mix]\nstrategy = \"timed\"\ninterval_ms = 50"), kNowS, running);
  BOOST_REQUIRE(std::holds_alternative<RelayConfig>(other));
  BOOST_TEST((std::get<RelayConfig>(other).mix.strategy == MixConfig::Strategy::timed));
  // Any problem --check would report refuses it whole.
  BOOST_TEST(problems(s.mix_config("", "[mix]\nstrategy = \"bogus\""), running.directory_serial, running.epoch_timing) ==
             std::vector<std::string>{"mix.strategy: unknown strategy \"bogus\" (one of none, threshold, timed, "
                                      "threshold_or_timed, binomial, poisson)"});
  BOOST_TEST(problems("name = ", running.directory_serial, running.epoch_timing).size() == 1u);
  // The running directory is newer (serial 8 > the file's 7).
  BOOST_TEST(problems(s.mix_config(), 8, running.epoch_timing) ==
             std::vector<std::string>{"directory_file: serial 7 is older than the running directory's 8"});
  // Another schedule.
  EpochTiming shifted = running.epoch_timing;
  shifted.length *= 2;
  BOOST_TEST(problems(s.mix_config(), running.directory_serial, shifted) ==
             std::vector<std::string>{"directory_file: another epoch schedule: needs a restart"});
  // Another key directory (the directory is judged against it, the running relay keeps its own).
  RelayConfig elsewhere = running;
  elsewhere.key_dir = s.key_dir("relay-beta");
  const ConfigResult moved = check_reload(s.mix_config(), kNowS, elsewhere);
  BOOST_REQUIRE(std::holds_alternative<ConfigProblems>(moved));
  BOOST_TEST(std::get<ConfigProblems>(moved).problems ==
             std::vector<std::string>{"key_dir: changed: needs a restart (the directory is judged against it)"});
}

BOOST_AUTO_TEST_CASE(docs_config_md_carries_the_generated_table) {
  const std::string generated = config_reference_markdown();
  const std::string docs = read_source("docs/config.md");
  if (docs.find(generated) == std::string::npos) {
    std::ofstream("config-reference.md") << generated;
    BOOST_ERROR("docs/config.md is out of step with the field table (proxy/relay/core/config_fields.cpp); "
                "the current table is in "
                << (fs::current_path() / "config-reference.md").string()
                << ": replace the table in docs/config.md with it");
  }
}

BOOST_AUTO_TEST_CASE(example_config_is_valid_and_shows_every_key) {
  Scratch s;
  std::string text = read_source("config/relay.example.toml");
  // Its key_dir, directory_file, authorities and journal_dir are those of a real deployment; point
  // them at the network made here (whose relay-alpha is the example's relay).
  const auto set_line = [&](const std::string& key, const std::string& value) {
    const auto at = text.find("\n" + key + " = ");
    BOOST_TEST_REQUIRE(at != std::string::npos, "config/relay.example.toml has no " << key);
    const auto end = text.find('\n', at + 1);
    text.replace(at + 1, end - at - 1, key + " = " + value);
  };
  set_line("key_dir", "\"" + s.key_dir("relay-alpha") + "\"");
  set_line("directory_file", "\"" + s.directory_file + "\"");
  set_line("journal_dir", "\"" + s.journal + "\"");
  // directory_authorities may span lines: replace the whole array.
  const auto at = text.find("\ndirectory_authorities = [");
  BOOST_TEST_REQUIRE(at != std::string::npos);
  const auto close = text.find(']', at);
  BOOST_TEST_REQUIRE(close != std::string::npos);
  text.replace(at + 1, close - at, "directory_authorities = " + s.authorities_toml());
  const RelayConfig c = valid(text);
  BOOST_TEST(c.name == "relay-alpha");
  BOOST_TEST(c.provider == "alpha.example");
  BOOST_TEST(c.directory.size() == 3u);
  BOOST_TEST(c.mix_hops == 1u);
  BOOST_TEST(!c.plain_links);
  BOOST_TEST(!c.recipients.empty());

  // Every key appears, not commented out: "<key> =" at the start of a line, in its table.
  std::string table;  // the current [table], "" at the top
  std::vector<std::string> shown;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind('[', 0) == 0) {
      table = line.substr(1, line.find(']') - 1);
    } else if (const auto eq = line.find(" ="); eq != std::string::npos && line[0] != '#' && line[0] != ' ') {
      shown.push_back(table.empty() ? line.substr(0, eq) : table + "." + line.substr(0, eq));
    } else if (table.empty()) {
      // Settings that weaken the relay are shown commented out (two for benchmarks only).
      for (const char* key : {"run_without_journal", "plain_links", "allow_remote_messenger", "allow_remote_admin"}) {
        if (line.rfind(std::string("# ") + key + " = ", 0) == 0) shown.push_back(key);
      }
    }
  }
  for (const auto& k : config_reference()) {
    const std::string& path = k.path;
    const bool found = k.type == "table" ? text.find("\n[" + path + "]") != std::string::npos
                                         : std::find(shown.begin(), shown.end(), path) != shown.end();
    BOOST_TEST(found, "config/relay.example.toml does not show " << path);
  }
}

BOOST_AUTO_TEST_CASE(toml_from_json_writes_a_config_the_relay_reads) {
  Scratch s;
  nlohmann::json j;
  j["name"] = "relay-alpha";
  j["provider"] = "alpha.example";
  j["peer_listen"] = "127.0.0.1:7401";
  j["submit_listen"] = "127.0.0.1:7400";
  j["deliver_to"] = "127.0.0.1:7500";
  j["key_dir"] = s.key_dir("relay-alpha");
  j["directory_file"] = s.directory_file;
  j["directory_authorities"] = {s.authority_hex(0), s.authority_hex(1), s.authority_hex(2)};
  j["directory_threshold"] = 2;
  j["metrics_interval_ms"] = 200;
  j["recipients"] = nlohmann::json::object();
  j["recipients"]["6a0e2c4b-1f3d-4e5a-8b7c-9d0e1f2a3b4c"] = "00112233445566778899aabbccddeeff";
  j["recipients"]["PNI:1b2c3d4e-5f60-4172-8394-a5b6c7d8e9f0"] = "unrestricted";
  // Settings merged over it, as the simulation does: integers and floats keep their kind.
  j["journal_dir"] = s.journal;
  j.merge_patch({{"mix_hops", 1},
                 {"packet_size", 1024u},
                 {"plain_links", true},
                 {"mix", {{"strategy", "poisson"}, {"mean_delay_ms", 2.5}}},
                 {"cover", {{"drop_rate", 5}, {"loop_rate", 0.25}}}});
  const std::string toml = toml_from_json(j);
  BOOST_TEST(toml.find("directory_authorities = [") != std::string::npos, toml);
  const RelayConfig c = valid(toml);
  BOOST_TEST(c.name == "relay-alpha");
  BOOST_TEST(c.packet_size == 1024u);
  BOOST_TEST(c.mix_hops == 1u);
  BOOST_TEST(c.plain_links);
  BOOST_TEST(c.directory_threshold == 2u);
  BOOST_TEST(c.directory_authorities.size() == 3u);
  BOOST_TEST(c.mix.mean_delay == 2500);
  BOOST_TEST(c.cover.drop_rate == 5.0);
  BOOST_TEST(c.cover.loop_rate == 0.25);
  BOOST_TEST(c.metrics_interval == 200'000);
  BOOST_TEST(c.recipients.size() == 2u);
  BOOST_TEST(c.directory.size() == 3u);
  BOOST_TEST((c.directory[2].providers == std::vector<std::string>{"beta.example"}));

  // A float where an integer belongs stays a float, and is reported.
  j["packet_size"] = 1024.0;
  BOOST_TEST(only_problem(toml_from_json(j)) == "packet_size: expected an integer, found a float");

  BOOST_CHECK_THROW(toml_from_json(nlohmann::json::array()), std::invalid_argument);
  BOOST_CHECK_THROW(toml_from_json({{"name", nullptr}}), std::invalid_argument);
  BOOST_CHECK_THROW(toml_from_json({{"serial", UINT64_MAX}}), std::invalid_argument);
  // Arrays of objects become arrays of tables.
  const std::string tables = toml_from_json({{"peers", {{{"name", "a"}}, {{"name", "b"}}}}});
  BOOST_TEST(tables.find("[[peers]]") != std::string::npos, tables);
}

BOOST_AUTO_TEST_SUITE_END()
