// Relay config: TOML in, every problem reported at once (unknown keys by full path, types,
// ranges, required keys, endpoints, keys, recipients, the key file), the generated key reference
// in docs/config.md, config/relay.example.toml, and JSON to TOML for the simulation.
#include <boost/test/unit_test.hpp>

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "base/rng.h"
#include "crypto/keys.h"
#include "proxy/relay/core/config.h"
#include "test_support.h"

#ifndef VEIL_SOURCE_DIR
#error "VEIL_SOURCE_DIR must name the source tree (tests/CMakeLists.txt sets it)"
#endif

using namespace veil;
using namespace veil::relay;
namespace fs = std::filesystem;

namespace {

// A scratch directory with a valid epoch key file and two peers' public keys.
struct Scratch {
  fs::path dir;
  std::string key_file;
  std::string mix_key;   // hex of a serialized public key
  std::string beta_key;

  Scratch() {
    std::string tmpl = (fs::temp_directory_path() / "veil-config-test-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp");
    dir = tmpl;
    SeededRng rng(7);
    const auto own = crypto::KeyPair::generate(rng);
    key_file = write("epoch.key", own.priv.raw());
    mix_key = to_hex(crypto::KeyPair::generate(rng).pub.serialize());
    beta_key = to_hex(crypto::KeyPair::generate(rng).pub.serialize());
  }
  ~Scratch() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;

  std::string write(const std::string& name, ByteView bytes) const {
    const fs::path p = dir / name;
    std::ofstream out(p, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    return p.string();
  }
  std::string write_text(const std::string& name, const std::string& text) const {
    return write(name, as_bytes(text));
  }

  // A valid mix relay's config: `top` is added among the top-level keys, `tables` before the
  // directory (which lists one mix).
  std::string mix_config(const std::string& top = "", const std::string& tables = "") const {
    return "name = \"mix-1\"\n"
           "peer_listen = \"127.0.0.1:7601\"\n"
           "journal_dir = \"" + (dir / "journal").string() + "\"\n"
           "epoch_key_file = \"" + key_file + "\"\n" + top + "\n" + tables + "\n" +
           "[[directory]]\nname = \"mix-1\"\naddress = \"127.0.0.1:7601\"\nepoch_key = \"" + mix_key + "\"\n";
  }

  // A valid provider relay's config, with the same insertion points.
  std::string provider_config(const std::string& top = "", const std::string& tables = "") const {
    return "name = \"relay-alpha\"\n"
           "provider = \"alpha.example\"\n"
           "peer_listen = \"127.0.0.1:7401\"\n"
           "deliver_to = \"127.0.0.1:7500\"\n"
           "journal_dir = \"" + (dir / "journal").string() + "\"\n"
           "epoch_key_file = \"" + key_file + "\"\n" + top + "\n" + tables + "\n" +
           "[[directory]]\nname = \"mix-1\"\naddress = \"127.0.0.1:7601\"\nepoch_key = \"" + mix_key + "\"\n" +
           "[[directory]]\nname = \"relay-beta\"\naddress = \"[::1]:7701\"\nepoch_key = \"" + beta_key +
           "\"\nproviders = [\"beta.example\"]\n";
  }
};

std::vector<std::string> problems_of(const std::string& text) {
  ConfigResult r = build_config(text);
  if (auto* bad = std::get_if<ConfigProblems>(&r)) {
    BOOST_TEST_REQUIRE(!bad->problems.empty());
    return bad->problems;
  }
  return {};
}

RelayConfig valid(const std::string& text) {
  ConfigResult r = build_config(text);
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
std::string only_problem(const std::string& text) {
  const auto p = problems_of(text);
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
      "epoch_key_file = \"" + s.key_file + "\"\n"
      "epoch = 3\n"
      "packet_size = 2048\n"
      "timestamp_quantum_ms = 60000\n"
      "mix_hops = 2\n"
      "per_peer_queue = 1000\n"
      "crypto_workers = 4\n"
      "max_replay_entries = 5000\n"
      "deliver_retry_ms = 250\n"
      "journal_dir = \"" + (s.dir / "journal").string() + "\"\n"
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
      "\"PNI:1b2c3d4e-5f60-4172-8394-a5b6c7d8e9f0\" = \"unrestricted\"\n"
      "[[directory]]\n"
      "name = \"mix-1\"\n"
      "address = \"10.0.0.2:7601\"\n"
      "epoch_key = \"" + s.mix_key + "\"\n"
      "[[directory]]\n"
      "name = \"relay-beta\"\n"
      "address = \"[2001:db8::7]:7701\"\n"
      "epoch_key = \"" + s.beta_key + "\"\n"
      "providers = [\"beta.example\", \"gamma.example\"]\n";
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
  BOOST_TEST(c.epoch_key_file == s.key_file);
  BOOST_TEST(c.epoch == 3u);
  BOOST_TEST(c.packet_size == 2048u);
  BOOST_TEST(c.timestamp_quantum_ms == 60000);
  BOOST_TEST(c.mix_hops == 2u);
  BOOST_TEST(c.per_peer_queue == 1000u);
  BOOST_TEST(c.crypto_workers == 4u);
  BOOST_TEST(c.max_replay_entries == 5000u);
  BOOST_TEST(c.deliver_retry == 250'000);
  BOOST_TEST(c.journal_dir == (s.dir / "journal").string());
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
  BOOST_TEST_REQUIRE(c.directory.size() == 2u);
  BOOST_TEST(c.directory[0].name == "mix-1");
  BOOST_TEST((c.directory[0].id == relay_id("mix-1")));
  BOOST_TEST(c.directory[0].host == "10.0.0.2");
  BOOST_TEST(c.directory[0].port == 7601u);
  BOOST_TEST(to_hex(c.directory[0].epoch_key.serialize()) == s.mix_key);
  BOOST_TEST(c.directory[0].is_mix());
  BOOST_TEST(c.directory[1].host == "2001:db8::7");
  BOOST_TEST((c.directory[1].providers == std::vector<std::string>{"beta.example", "gamma.example"}));
}

BOOST_AUTO_TEST_CASE(minimal_config_takes_the_defaults) {
  Scratch s;
  const RelayConfig c = valid("name = \"mix-1\"\n"
                              "peer_listen = \"127.0.0.1:7601\"\n"
                              "epoch_key_file = \"" + s.key_file + "\"\n"
                              "run_without_journal = true\n"
                              "directory = []\n");
  const RelayConfig d;
  BOOST_TEST(c.name == "mix-1");
  BOOST_TEST(c.provider.empty());
  BOOST_TEST(!c.submit_listen.enabled());
  BOOST_TEST(!c.deliver_to.enabled());
  BOOST_TEST(c.epoch == d.epoch);
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
  BOOST_TEST(c.directory.empty());
  BOOST_TEST(c.metrics_file.empty());
  BOOST_TEST(c.metrics_interval == d.metrics_interval);
}

BOOST_AUTO_TEST_CASE(the_helper_configs_are_valid) {
  Scratch s;
  valid(s.mix_config());
  valid(s.provider_config());
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
  BOOST_TEST(only_problem(replaced(s.mix_config(), (s.dir / "journal").string(), open_dir)) ==
             "journal_dir: " + open_dir + " must be accessible by its owner only (chmod 700)");
  const std::string orphan = (s.dir / "no" / "journal").string();
  BOOST_TEST(only_problem(replaced(s.mix_config(), (s.dir / "journal").string(), orphan)) ==
             "journal_dir: " + orphan + ": cannot be created: its parent directory does not exist");
  BOOST_TEST(only_problem(replaced(s.mix_config(), (s.dir / "journal").string(), s.key_file)) ==
             "journal_dir: " + s.key_file + " is not a directory");
  BOOST_TEST(only_problem(s.mix_config("journal_commit_window_ms = 2000")).rfind(
                 "journal_commit_window_ms: 2000 is out of range", 0) == 0u);
}

BOOST_AUTO_TEST_CASE(unknown_keys_are_named_by_full_path) {
  Scratch s;
  BOOST_TEST(only_problem(s.mix_config("nmae = \"x\"")) == "nmae: unknown key (did you mean name?)");
  BOOST_TEST(only_problem(s.mix_config("colour = \"blue\"")) == "colour: unknown key");
  BOOST_TEST(only_problem(s.mix_config("", "[mix]\nstrategy = \"none\"\nflush = 3")) == "mix.flush: unknown key");
  BOOST_TEST(only_problem(s.mix_config("", "[cover]\ndrop_rat = 1")) ==
             "cover.drop_rat: unknown key (did you mean drop_rate?)");
  BOOST_TEST(only_problem(s.mix_config("", "[metrics]\nfile = \"m.json\"")) == "metrics: unknown key");
  // A key of a table written at the top level is unknown there.
  BOOST_TEST(only_problem(s.mix_config("strategy = \"none\"")) == "strategy: unknown key");

  const std::string second_entry_typo =
      "name = \"mix-1\"\npeer_listen = \"127.0.0.1:7601\"\nepoch_key_file = \"" + s.key_file + "\"\n"
      "run_without_journal = true\n"
      "[[directory]]\nname = \"mix-1\"\naddress = \"127.0.0.1:7601\"\nepoch_key = \"" + s.mix_key + "\"\n"
      "[[directory]]\nname = \"mix-2\"\nadress = \"127.0.0.1:7602\"\naddress = \"127.0.0.1:7603\"\n"
      "epoch_key = \"" + s.beta_key + "\"\n";
  BOOST_TEST(only_problem(second_entry_typo) == "directory[1].adress: unknown key (did you mean address?)");
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
  BOOST_TEST(only_problem(s.mix_config("peer_listen_backlog = 1")).find("unknown key") != std::string::npos);
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
  BOOST_TEST(none.size() == 5u, joined(none));
  BOOST_TEST(reports(none, "journal_dir", "required (or run_without_journal = true"));
  BOOST_TEST(reports(none, "name", "required key is missing"));
  BOOST_TEST(reports(none, "peer_listen", "required key is missing"));
  BOOST_TEST(reports(none, "epoch_key_file", "required key is missing"));
  BOOST_TEST(reports(none, "directory", "required key is missing"));

  BOOST_TEST(only_problem("name = \"\"\npeer_listen = \"127.0.0.1:1\"\nepoch_key_file = \"" + s.key_file +
                          "\"\nrun_without_journal = true\ndirectory = []\n") == "name: must not be empty");
  // deliver_to: required once provider is set.
  BOOST_TEST(only_problem(s.mix_config("provider = \"alpha.example\"")) ==
             "deliver_to: required for a provider relay (provider is set)");
  const auto entry = problems_of("name = \"mix-1\"\npeer_listen = \"127.0.0.1:1\"\nepoch_key_file = \"" +
                                 s.key_file + "\"\nrun_without_journal = true\n[[directory]]\nname = \"mix-2\"\n");
  BOOST_TEST(entry.size() == 2u, joined(entry));
  BOOST_TEST(reports(entry, "directory[0].address", "required key is missing"));
  BOOST_TEST(reports(entry, "directory[0].epoch_key", "required key is missing"));
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

  // Dialled endpoints need a port; a peer is reached over TCP only.
  BOOST_TEST(only_problem(replaced(s.provider_config(), "127.0.0.1:7500", "127.0.0.1:0")) ==
             "deliver_to: port 0 is only for a listening socket");
  valid(replaced(s.provider_config(), "127.0.0.1:7500", "unix:/run/veil/deliver.sock"));
  BOOST_TEST(only_problem(replaced(s.provider_config(), "[::1]:7701", "unix:/run/beta.sock")) ==
             "directory[1].address: expected \"host:port\" (peers are reached over TCP)");
}

BOOST_AUTO_TEST_CASE(bad_directory_keys) {
  Scratch s;
  const auto with_key = [&](const std::string& key) {
    return only_problem(replaced(s.mix_config(), s.mix_key, key));
  };
  BOOST_TEST(with_key("05zz") == "directory[0].epoch_key: not hex");
  BOOST_TEST(with_key("05abc") == "directory[0].epoch_key: not hex");
  BOOST_TEST(with_key(s.mix_key.substr(2)) == "directory[0].epoch_key: not a public key (32 bytes; expected 33, 0x05 first)");
  BOOST_TEST(with_key("06" + s.mix_key.substr(2)) ==
             "directory[0].epoch_key: not a public key (33 bytes; expected 33, 0x05 first)");
  BOOST_TEST(with_key(s.mix_key + "00") ==
             "directory[0].epoch_key: not a public key (34 bytes; expected 33, 0x05 first)");
}

BOOST_AUTO_TEST_CASE(bad_recipients) {
  Scratch s;
  const auto recipient = [&](const std::string& line) {
    return only_problem(s.provider_config("", "[recipients]\n" + line));
  };
  BOOST_TEST(recipient("\"alice\" = \"unrestricted\"") ==
             "recipients.alice: not a service id (a UUID, or PNI: and a UUID)");
  BOOST_TEST(recipient("\"6A0E2C4B-1F3D-4E5A-8B7C-9D0E1F2A3B4C\" = \"unrestricted\"") ==
             "recipients.6A0E2C4B-1F3D-4E5A-8B7C-9D0E1F2A3B4C: write this service id as "
             "6a0e2c4b-1f3d-4e5a-8b7c-9d0e1f2a3b4c");
  BOOST_TEST(recipient("\"6a0e2c4b-1f3d-4e5a-8b7c-9d0e1f2a3b4c\" = \"open\"") ==
             "recipients.6a0e2c4b-1f3d-4e5a-8b7c-9d0e1f2a3b4c: expected a 16-byte access key in hex (32 digits) "
             "or \"unrestricted\"");
  BOOST_TEST(recipient("\"6a0e2c4b-1f3d-4e5a-8b7c-9d0e1f2a3b4c\" = \"0011\"") ==
             "recipients.6a0e2c4b-1f3d-4e5a-8b7c-9d0e1f2a3b4c: expected a 16-byte access key in hex (32 digits) "
             "or \"unrestricted\"");
  BOOST_TEST(recipient("\"6a0e2c4b-1f3d-4e5a-8b7c-9d0e1f2a3b4c\" = 5") ==
             "recipients.6a0e2c4b-1f3d-4e5a-8b7c-9d0e1f2a3b4c: expected a string, found an integer");
  BOOST_TEST(only_problem(s.provider_config("recipients = [\"x\"]")) ==
             "recipients: expected a table of service id = access key, found an array");
}

BOOST_AUTO_TEST_CASE(directory_rules) {
  Scratch s;
  BOOST_TEST(only_problem(s.provider_config() + "[[directory]]\nname = \"mix-1\"\naddress = \"127.0.0.1:9\"\n" +
                          "epoch_key = \"" + s.mix_key + "\"\n") ==
             "directory[2].name: \"mix-1\" is listed before, as directory[0]");
  // mix_hops without a mix to choose would send packets without mix hops.
  const std::string no_mix = "name = \"relay-alpha\"\nprovider = \"alpha.example\"\npeer_listen = \"127.0.0.1:1\"\n"
                             "deliver_to = \"127.0.0.1:2\"\nepoch_key_file = \"" + s.key_file + "\"\nmix_hops = 1\n"
                             "run_without_journal = true\n"
                             "[[directory]]\nname = \"relay-beta\"\naddress = \"127.0.0.1:3\"\nepoch_key = \"" +
                             s.beta_key + "\"\nproviders = [\"beta.example\"]\n";
  BOOST_TEST(only_problem(no_mix) ==
             "mix_hops: 1 asked for, but the directory lists no mix relay (an entry without providers)");
  valid(replaced(no_mix, "mix_hops = 1", "mix_hops = 0"));
  BOOST_TEST(only_problem(replaced(s.mix_config(), "[[directory]]", "[directory]")) ==
             "directory: expected an array of tables ([[directory]]), found a table");
  const auto p = problems_of(replaced(s.mix_config(), "[[directory]]", "directory = [\"mix-1\"]\n[[peers]]"));
  BOOST_TEST(p.size() == 2u, joined(p));
  BOOST_TEST(reports(p, "directory[0]", "expected a table, found a string"));
  BOOST_TEST(reports(p, "peers", "unknown key"));
}

BOOST_AUTO_TEST_CASE(every_problem_is_reported_at_once) {
  Scratch s;
  const std::string text =
      "name = \"relay-alpha\"\n"
      "provider = \"alpha.example\"\n"            // and no deliver_to             (1)
      "peer_listen = \"localhost:7401\"\n"        // not numeric                   (2)
      "run_without_journal = true\n"
      "epoch_key_file = \"" + (s.dir / "missing.key").string() + "\"\n"  // unreadable (3)
      "packet_size = 100\n"                       // out of range                  (4)
      "crypto_workers = \"all\"\n"                // wrong type                    (5)
      "colour = \"blue\"\n"                       // unknown                       (6)
      "[mix]\n"
      "stratgy = \"threshold\"\n"                 // unknown                       (7)
      "probability = 2\n"                         // out of range                  (8)
      "[cover]\n"
      "loop_rate = -1\n"                          // out of range                  (9)
      "[recipients]\n"
      "\"bob\" = \"unrestricted\"\n"              // not a service id              (10)
      "[[directory]]\n"
      "name = \"mix-1\"\n"
      "adress = \"127.0.0.1:7601\"\n"             // unknown                       (11)
      "epoch_key = \"05\"\n";                     // not a key, address missing    (12, 13)
  const auto p = problems_of(text);
  BOOST_TEST(p.size() == 13u, joined(p));
  BOOST_TEST(reports(p, "deliver_to", "required for a provider relay"));
  BOOST_TEST(reports(p, "peer_listen", "not a numeric IPv4 address"));
  BOOST_TEST(reports(p, "epoch_key_file", "cannot read"));
  BOOST_TEST(reports(p, "packet_size", "out of range"));
  BOOST_TEST(reports(p, "crypto_workers", "expected an integer"));
  BOOST_TEST(reports(p, "colour", "unknown key"));
  BOOST_TEST(reports(p, "mix.stratgy", "unknown key"));
  BOOST_TEST(reports(p, "mix.probability", "out of range"));
  BOOST_TEST(reports(p, "cover.loop_rate", "out of range"));
  BOOST_TEST(reports(p, "recipients.bob", "not a service id"));
  BOOST_TEST(reports(p, "directory[0].adress", "unknown key"));
  BOOST_TEST(reports(p, "directory[0].address", "required key is missing"));
  BOOST_TEST(reports(p, "directory[0].epoch_key", "not a public key"));

  // The throwing forms carry every problem, one per line.
  try {
    parse_config(text);
    BOOST_FAIL("parse_config accepted a bad config");
  } catch (const std::runtime_error& e) {
    BOOST_TEST(std::string(e.what()) + "\n" == joined(p));
  }
  const std::string path = s.write_text("bad.toml", text);
  BOOST_TEST(check_config_file(path) == p);
  BOOST_CHECK_THROW(load_config(path), std::runtime_error);
}

BOOST_AUTO_TEST_CASE(key_file_must_hold_a_private_key) {
  Scratch s;
  const auto with_key_file = [&](const std::string& path) {
    std::string text = s.mix_config();
    return only_problem(text.replace(text.find(s.key_file), s.key_file.size(), path));
  };
  const std::string missing = (s.dir / "nope.key").string();
  BOOST_TEST(with_key_file(missing) == "epoch_key_file: cannot read " + missing + ": No such file or directory");
  const std::string short_key = s.write("short.key", Bytes(31, 1));
  BOOST_TEST(with_key_file(short_key) == "epoch_key_file: " + short_key + " holds 31 bytes, not a 32-byte private key");
  const std::string public_key = s.write("public.key", test::unhex(s.mix_key));
  BOOST_TEST(with_key_file(public_key) ==
             "epoch_key_file: " + public_key + " holds 33 bytes, not a 32-byte private key");
  BOOST_TEST(with_key_file(s.dir.string()) == "epoch_key_file: " + s.dir.string() + " is not a regular file");
  if (::geteuid() != 0) {  // root reads a mode-000 file anyway
    const std::string locked = s.write("locked.key", Bytes(32, 1));
    ::chmod(locked.c_str(), 0);
    BOOST_TEST(with_key_file(locked) == "epoch_key_file: cannot read " + locked + ": Permission denied");
  }
}

BOOST_AUTO_TEST_CASE(toml_syntax_errors_name_the_line) {
  const auto p = problems_of("name = \"relay\"\npacket_size = = 4\n");
  BOOST_TEST_REQUIRE(p.size() == 1u, joined(p));
  BOOST_TEST(p[0].rfind("line 2, column ", 0) == 0, p[0]);
  const auto dup = problems_of("name = \"a\"\nname = \"b\"\n");
  BOOST_TEST_REQUIRE(dup.size() == 1u, joined(dup));
  BOOST_TEST(dup[0].rfind("line 2, column ", 0) == 0, dup[0]);
  Scratch s;
  const std::string missing = (s.dir / "absent.toml").string();
  BOOST_TEST(check_config_file(missing) ==
             std::vector<std::string>{"cannot read " + missing + ": No such file or directory"});
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
      "name", "provider", "peer_listen", "submit_listen", "deliver_to", "epoch_key_file", "epoch",
      "packet_size", "timestamp_quantum_ms", "mix_hops", "mix.strategy", "mix.threshold", "mix.interval_ms",
      "mix.probability", "mix.min_pool", "mix.mean_delay_ms", "cover.drop_rate", "cover.loop_rate",
      "cover.loop_timeout_ms", "cover.alarm_loss", "cover.alarm_latency_ms", "per_peer_queue",
      "crypto_workers", "max_replay_entries", "deliver_retry_ms", "recipients", "directory",
      "directory[].name", "directory[].address", "directory[].epoch_key", "directory[].providers",
      "journal_dir", "run_without_journal", "journal_commit_window_ms", "drain_timeout_ms",
      "metrics_file", "metrics_interval_ms"};
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
  // Its epoch_key_file names a path of a real deployment; point it at a key written here.
  const auto at = text.find("\nepoch_key_file = ");
  BOOST_TEST_REQUIRE(at != std::string::npos);
  const auto end = text.find('\n', at + 1);
  text.replace(at + 1, end - at - 1, "epoch_key_file = \"" + s.key_file + "\"");
  text = replaced(text, "journal_dir = \"/var/lib/veil/journal\"",
                  "journal_dir = \"" + (s.dir / "journal").string() + "\"");
  const RelayConfig c = valid(text);
  BOOST_TEST(c.name == "relay-alpha");
  BOOST_TEST(c.provider == "alpha.example");
  BOOST_TEST(c.directory.size() == 2u);
  BOOST_TEST(!c.recipients.empty());

  // Every key appears, not commented out: "<key> =" at the start of a line, in its table.
  std::string table;  // the current [table] or [[table]], "" at the top
  std::vector<std::string> shown;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("[[", 0) == 0) {
      table = line.substr(2, line.find("]]") - 2) + "[]";
    } else if (line.rfind('[', 0) == 0) {
      table = line.substr(1, line.find(']') - 1);
    } else if (const auto eq = line.find(" ="); eq != std::string::npos && line[0] != '#' && line[0] != ' ') {
      shown.push_back(table.empty() ? line.substr(0, eq) : table + "." + line.substr(0, eq));
    } else if (line.rfind("# run_without_journal = ", 0) == 0 && table.empty()) {
      shown.push_back("run_without_journal");  // excludes journal_dir: shown commented out
    }
  }
  for (const auto& k : config_reference()) {
    const bool is_table = k.type == "table" || k.type == "array of tables";
    const std::string& path = k.path;
    const bool found =
        is_table ? text.find("\n[" + path + "]") != std::string::npos || text.find("\n[[" + path + "]]") != std::string::npos
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
  j["epoch_key_file"] = s.key_file;
  j["metrics_interval_ms"] = 200;
  j["recipients"] = nlohmann::json::object();
  j["recipients"]["6a0e2c4b-1f3d-4e5a-8b7c-9d0e1f2a3b4c"] = "00112233445566778899aabbccddeeff";
  j["recipients"]["PNI:1b2c3d4e-5f60-4172-8394-a5b6c7d8e9f0"] = "unrestricted";
  j["directory"] = nlohmann::json::array();
  j["directory"].push_back({{"name", "mix-1"}, {"address", "127.0.0.1:7601"}, {"epoch_key", s.mix_key}});
  j["directory"].push_back({{"name", "relay-beta"},
                            {"address", "127.0.0.1:7701"},
                            {"epoch_key", s.beta_key},
                            {"providers", {"beta.example"}}});
  // Settings merged over it, as the simulation does: integers and floats keep their kind.
  j["journal_dir"] = (s.dir / "journal").string();
  j.merge_patch({{"mix_hops", 1},
                 {"packet_size", 1024u},
                 {"mix", {{"strategy", "poisson"}, {"mean_delay_ms", 2.5}}},
                 {"cover", {{"drop_rate", 5}, {"loop_rate", 0.25}}}});
  const std::string toml = toml_from_json(j);
  BOOST_TEST(toml.find("[[directory]]") != std::string::npos, toml);
  const RelayConfig c = valid(toml);
  BOOST_TEST(c.name == "relay-alpha");
  BOOST_TEST(c.packet_size == 1024u);
  BOOST_TEST(c.mix_hops == 1u);
  BOOST_TEST(c.mix.mean_delay == 2500);
  BOOST_TEST(c.cover.drop_rate == 5.0);
  BOOST_TEST(c.cover.loop_rate == 0.25);
  BOOST_TEST(c.metrics_interval == 200'000);
  BOOST_TEST(c.recipients.size() == 2u);
  BOOST_TEST(c.directory.size() == 2u);
  BOOST_TEST((c.directory[1].providers == std::vector<std::string>{"beta.example"}));

  // A float where an integer belongs stays a float, and is reported.
  j["packet_size"] = 1024.0;
  BOOST_TEST(only_problem(toml_from_json(j)) == "packet_size: expected an integer, found a float");

  BOOST_CHECK_THROW(toml_from_json(nlohmann::json::array()), std::invalid_argument);
  BOOST_CHECK_THROW(toml_from_json({{"name", nullptr}}), std::invalid_argument);
  BOOST_CHECK_THROW(toml_from_json({{"epoch", UINT64_MAX}}), std::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()
