// veil-relay: runs one relay from its TOML config until SIGINT/SIGTERM, on a libuv loop
// (--check: only checks the config). SIGTERM drains; see docs/relay.md.
#include <systemd/sd-daemon.h>
#include <uv.h>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <optional>
#include <variant>
#include <string>
#include <vector>

#include "base/check.h"
#include "proxy/relay/admin/admin_routes.h"
#include "proxy/relay/admin/admin_server.h"
#include "proxy/relay/core/relay.h"
#include "proxy/relay/core/relay_keys.h"
#include "proxy/relay/daemon/logs.h"
#include "proxy/relay/store/rocks_journal.h"
#include "proxy/relay/tls/tls_security.h"
#include "proxy/relay/uv/uv_clock.h"
#include "proxy/relay/uv/uv_executor.h"
#include "proxy/relay/uv/uv_mailbox.h"
#include "proxy/relay/uv/uv_transport.h"

namespace {

using namespace veil;
using namespace veil::relay;

#ifndef VEIL_VERSION
#define VEIL_VERSION "unknown"
#endif

// Says `state` to systemd when it started the relay (Type=notify); nothing otherwise.
void notify_systemd(const std::string& state) { sd_notify(0, state.c_str()); }

// Epoch keys made ahead of the current epoch, ready for `veil relay-keys descriptor` to publish.
constexpr uint64_t kEpochKeysAhead = 24;

int64_t now_unix_s() { return static_cast<int64_t>(std::time(nullptr)); }

// The link-security slot: TLS 1.3 pinned to the directory's identity keys, or, when the config
// says so explicitly, plain links whose dialer names itself.
std::unique_ptr<LinkSecurity> make_security(const RelayConfig& config, const crypto::IdentityKey& identity,
                                            Clock& clock) {
  if (config.plain_links) {
    logs::warn("plain peer links (plain_links = true): anyone who can reach the peer port can "
               "claim to be a relay, and link observers see the packets");
    return std::make_unique<NullSecurity>(config.name);
  }
  auto peers = std::make_shared<const std::vector<PeerConfig>>(config.directory);
  TlsPeers lookups;
  lookups.key_of = [peers](const std::string& name) -> std::optional<crypto::IdentityPublicKey> {
    for (const PeerConfig& p : *peers) {
      if (p.name == name) return p.identity;
    }
    return std::nullopt;
  };
  lookups.name_of = [peers](const crypto::IdentityPublicKey& key) -> std::optional<std::string> {
    for (const PeerConfig& p : *peers) {
      if (p.identity == key) return p.name;
    }
    return std::nullopt;
  };
  return std::make_unique<TlsSecurity>(identity, clock, config.link_handshake_timeout, std::move(lookups));
}

// libuv sizes its worker pool from UV_THREADPOOL_SIZE when the first work item is queued. The
// config wins; otherwise an operator's UV_THREADPOOL_SIZE; otherwise one worker per CPU this process
// may run on (libuv's count, from the affinity mask; more workers than CPUs only add context
// switches to CPU-bound work).
void size_crypto_workers(unsigned configured) {
  if (configured == 0 && std::getenv("UV_THREADPOOL_SIZE") != nullptr) return;
  const unsigned n = configured != 0 ? configured : uv_available_parallelism();
  ::setenv("UV_THREADPOOL_SIZE", std::to_string(std::max(1u, n)).c_str(), 1);
}

// The metrics file: the relay's aggregate metrics as one JSON object, replaced atomically.
// A file that cannot be written is said once on stderr, not at every interval.
void write_metrics(const Relay& relay, const std::string& path) {
  if (path.empty()) return;
  static bool warned = false;
  const std::string tmp = path + ".tmp";
  bool ok = false;
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << relay.metrics().to_json() << "\n";
    ok = static_cast<bool>(out.flush());
  }
  ok = ok && std::rename(tmp.c_str(), path.c_str()) == 0;
  if (!ok && !warned) {
    warned = true;
    logs::error("metrics_file cannot be written", {{"path", path}, {"error", std::strerror(errno)}});
  }
  if (ok) warned = false;
}

struct Daemon {
  std::string config_path;
  AdminContext admin;  // what /metrics shows beyond the relay
  AdminServer* admin_server = nullptr;
  UvMailbox* mailbox = nullptr;
  Clock* clock = nullptr;
  Relay* relay = nullptr;
  RelayConfig started;  // as started: a reload is judged against its name, keys and schedule
  uint64_t directory_serial = 0;
  Micros drain_timeout = 0;
  std::string metrics_file;
  Micros metrics_period = 0;
  std::string log_level;
  Timer* metrics_timer = nullptr;
  Timer* journal_watch = nullptr;
  Timer* deadline = nullptr;  // ends a drain the journal cannot finish
  uv_signal_t sigint{};
  uv_signal_t sigterm{};
  uv_signal_t sighup{};
  bool signalled = false;
  bool drained = false;
  bool journal_failing = false;  // as last logged
  uint64_t journal_write_errors = 0;
  std::map<std::string, Micros> down_since;  // links not up (peer name; "" the deliver link)
  std::set<std::string> said_down;           // ... and logged as such
};

void close_signals(Daemon& d) {
  uv_close(reinterpret_cast<uv_handle_t*>(&d.sigint), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&d.sigterm), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&d.sighup), nullptr);
}

void event(const char* name) {
  std::printf("{\"event\":\"%s\"}\n", name);
  std::fflush(stdout);
}

void print_json(const nlohmann::json& j) {
  std::printf("%s\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  std::fflush(stdout);
}

// Keys for `epoch` and the kEpochKeysAhead - 1 after it, made where missing.
void make_keys_ahead(uint64_t epoch, const std::string& key_dir, Rng& rng) {
  std::string why;
  if (ensure_epoch_keys(key_dir, epoch, epoch + kEpochKeysAhead, rng, &why) != Error::ok) {
    logs::error("key_dir: cannot make epoch keys ahead", {{"error", why}});
  }
}

// An epoch switch: said on stdout and in the log, keys made ahead for the epochs to come, and any
// key that could not be read or wiped since the last switch logged.
void on_epoch(uint64_t epoch, const std::string& key_dir, KeyDirEpochKeys& keys, Rng& rng) {
  std::printf("{\"event\":\"epoch\",\"epoch\":%llu}\n", static_cast<unsigned long long>(epoch));
  std::fflush(stdout);
  logs::info("epoch switch", {{"epoch", epoch}});
  const std::string problem = keys.take_problem();
  if (!problem.empty()) logs::error("key_dir", {{"error", problem}});
  make_keys_ahead(epoch, key_dir, rng);
}

// The mix as configured, for the log.
nlohmann::json mix_summary(const MixConfig& m) {
  using S = MixConfig::Strategy;
  nlohmann::json j = {{"strategy", strategy_name(m.strategy)}};
  if (m.strategy == S::threshold || m.strategy == S::threshold_or_timed) j["threshold"] = m.threshold;
  if (m.strategy == S::timed || m.strategy == S::threshold_or_timed || m.strategy == S::binomial) {
    j["interval_ms"] = m.interval / 1000;
  }
  if (m.strategy == S::binomial) {
    j["probability"] = m.probability;
    j["min_pool"] = m.min_pool;
  }
  if (m.strategy == S::poisson) j["mean_delay_ms"] = static_cast<double>(m.mean_delay) / 1000.0;
  return j;
}

// The relay's state changes, in the log.
void on_relay_event(const Relay& relay, const RelayEvent& e) {
  nlohmann::json fields = nlohmann::json::object();
  if (!e.peer.empty()) fields["peer"] = e.peer;
  if (e.kind == RelayEvent::Kind::loop_alarm_raised || e.kind == RelayEvent::Kind::loop_alarm_cleared) {
    const Metrics& m = relay.metrics();
    fields["loop_loss_ratio"] = m.loop_loss_ratio;
    fields["loop_latency_p99_ms"] = m.loop_latency_us.quantile(0.99) / 1000.0;
    fields["peer_links_down"] = nlohmann::json::array();
    for (const PeerLinkStatus& p : relay.peer_links()) {
      if (!p.up) fields["peer_links_down"].push_back(p.name);
    }
  }
  const bool bad = e.kind == RelayEvent::Kind::peer_link_down || e.kind == RelayEvent::Kind::deliver_link_down ||
                   e.kind == RelayEvent::Kind::loop_alarm_raised;
  logs::write(bad ? logs::Level::warn : logs::Level::info, event_name(e.kind), fields);
}

// A link that has not been up for 10 s is said once (a link that never comes up has no "down"
// event), and again after it was up.
void watch_links(Daemon& d) {
  const Micros now = d.clock->now();
  const auto look = [&](const std::string& key, bool up, const nlohmann::json& fields, const char* msg) {
    if (up) {
      d.down_since.erase(key);
      d.said_down.erase(key);
      return;
    }
    const Micros since = d.down_since.emplace(key, now).first->second;
    if (now - since >= 10'000'000 && d.said_down.insert(key).second) {
      nlohmann::json f = fields;
      f["down_for_s"] = (now - since) / 1'000'000;
      logs::warn(msg, f);
    }
  };
  for (const PeerLinkStatus& p : d.relay->peer_links()) {
    look(p.name, p.up, {{"peer", p.name}, {"queued", p.queued + p.unacknowledged}}, "peer_link_not_up");
  }
  if (d.relay->role() == Role::provider) {
    const DeliverLinkStatus dl = d.relay->deliver_link();
    look("", dl.up, {{"pending", dl.pending}}, "deliver_link_not_up");
  }
}

// The journal's failing state is polled (it changes inside the journal), and logged when it turns.
void watch_journal(Daemon& d) {
  const JournalStats& j = d.relay->metrics().journal;
  if (j.failing != d.journal_failing) {
    d.journal_failing = j.failing;
    if (j.failing) {
      logs::error("journal_failing", {{"write_errors_total", j.write_errors}});
    } else {
      logs::info("journal_recovered", {{"write_errors_total", j.write_errors}});
    }
  }
  d.journal_write_errors = j.write_errors;
}

// The effective config, without secrets, recipients or anything about a user.
nlohmann::json config_summary(const RelayConfig& c) {
  const auto endpoint = [](const Endpoint& e) -> std::string {
    if (!e.enabled()) return "";
    if (!e.unix_path.empty()) return "unix:" + e.unix_path;
    return (e.host.find(':') != std::string::npos ? "[" + e.host + "]" : e.host) + ":" + std::to_string(e.port);
  };
  return {{"name", c.name},
          {"role", c.provider.empty() ? "mix" : "provider"},
          {"provider", c.provider},
          {"peer_listen", endpoint(c.peer_listen)},
          {"submit_listen", endpoint(c.submit_listen)},
          {"admin_listen", endpoint(c.admin_listen)},
          {"deliver_to", endpoint(c.deliver_to)},
          {"links", c.plain_links ? "plain" : "tls"},
          {"network", c.network},
          {"directory_serial", c.directory_serial},
          {"epoch_length_s", c.epoch_timing.length / 1'000'000},
          {"mix_hops", c.mix_hops},
          {"mix", mix_summary(c.mix)},
          {"cover_alarm_loss", c.cover.alarm_loss},
          {"cover_alarm_latency_ms", c.cover.alarm_latency / 1000},
          {"packet_size", c.packet_size},
          {"cover_drop_rate", c.cover.drop_rate},
          {"cover_loop_rate", c.cover.loop_rate},
          {"recipients", c.recipients.size()},
          {"journal", c.run_without_journal ? "none" : c.journal_dir},
          {"log_level", c.log_level}};
}

// A reload refused whole: the running config stays.
void refuse_reload(Daemon* d, const std::vector<std::string>& problems) {
  ++d->admin.reloads.refused;
  print_json({{"event", "reload"}, {"result", "refused"}, {"serial", d->directory_serial}, {"problems", problems}});
  logs::error("reload refused: the running config stays", {{"config", d->config_path}, {"problems", problems}});
}

// SIGHUP: the config file and the files it names again. A config that fails --check is refused
// whole, as is a directory older than the running one or another epoch schedule; otherwise what
// can change live applies at once (Relay::reconfigure; here: metrics_file, metrics_interval_ms,
// drain_timeout_ms, log_level) and what cannot is reported as needing a restart.
void reload(Daemon* d) {
  std::ifstream in(d->config_path);
  if (!in) {
    refuse_reload(d, {d->config_path + ": cannot be read (" + std::strerror(errno) + ")"});
    return;
  }
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  RelayConfig running = d->started;
  running.directory_serial = d->directory_serial;
  ReloadResult r = d->relay->reload(text, now_unix_s(), running);
  if (!r.problems.empty()) {
    refuse_reload(d, r.problems);
    return;
  }
  const std::optional<RelayConfig>& next = r.next;
  ReconfigureOutcome& out = r.outcome;
  const Micros period = std::max<Micros>(next->metrics_interval, 10'000);
  if (next->metrics_file != d->metrics_file || period != d->metrics_period) {
    if (next->metrics_file != d->metrics_file) out.changed.push_back("metrics_file");
    if (period != d->metrics_period) out.changed.push_back("metrics_interval_ms");
    d->metrics_file = next->metrics_file;
    d->metrics_period = period;
    d->metrics_timer->cancel();
    if (!d->metrics_file.empty()) d->metrics_timer->arm_at(d->clock->now() + d->metrics_period);
  }
  if (next->drain_timeout != d->drain_timeout) {
    d->drain_timeout = next->drain_timeout;
    out.changed.push_back("drain_timeout_ms");
  }
  if (next->log_level != d->log_level) {
    d->log_level = next->log_level;
    logs::set_level(d->log_level);
    out.changed.push_back("log_level");
  }
  d->directory_serial = std::max(d->directory_serial, next->directory_serial);
  d->admin.directory_serial = d->directory_serial;
  ++d->admin.reloads.applied;
  d->admin.reloads.last_success_seconds = static_cast<double>(now_unix_s());
  print_json({{"event", "reload"},
              {"result", "applied"},
              {"serial", d->directory_serial},
              {"changed", out.changed},
              {"needs_restart", out.needs_restart}});
  nlohmann::json fields = {{"config", d->config_path}, {"directory_serial", d->directory_serial},
                           {"changed", out.changed}, {"needs_restart", out.needs_restart},
                           {"mix", mix_summary(next->mix)}, {"cover_drop_rate", next->cover.drop_rate},
                           {"cover_loop_rate", next->cover.loop_rate}, {"log_level", d->log_level}};
  if (out.needs_restart.empty()) {
    logs::info("reload applied", fields);
  } else {
    logs::warn("reload applied; some changes need a restart", fields);
  }
}

void on_reload(uv_signal_t* s, int) {
  auto* d = static_cast<Daemon*>(s->data);
  if (d->signalled) {  // draining: nothing to reload into
    logs::warn("reload ignored: the relay is draining");
    return;
  }
  notify_systemd("RELOADING=1");
  try {
    reload(d);
  } catch (const std::exception& e) {
    refuse_reload(d, {std::string("reload failed: ") + e.what()});
  }
  notify_systemd("READY=1");
}

// SIGTERM or SIGINT: drain (stop taking work, let the pool leave on schedule, keep the rest in
// the journal), then exit 0. A second signal stops at once: what the journal committed is safe,
// as after a crash.
void on_signal(uv_signal_t* s, int) {
  auto* d = static_cast<Daemon*>(s->data);
  if (d->signalled) {
    event("stopped_at_once");
    logs::warn("stopped at once (second signal); the journal keeps what it committed");
    std::_Exit(1);
  }
  d->signalled = true;
  event("draining");
  logs::info("draining", {{"drain_timeout_ms", d->drain_timeout / 1000}});
  notify_systemd("STOPPING=1\nSTATUS=draining");
  d->deadline->arm_at(d->clock->now() + d->drain_timeout + 10'000'000);
  d->relay->drain(d->drain_timeout, [d] {
    d->drained = true;
    d->deadline->cancel();
    d->metrics_timer->cancel();
    d->journal_watch->cancel();
    write_metrics(*d->relay, d->metrics_file);
    close_signals(*d);
    d->admin_server->detach();
    d->mailbox->close();
    event("drained");
    const Metrics& m = d->relay->metrics();
    // Pooled or queued packets the drain did not send stay in the journal (covers are not kept).
    logs::info("drained", {{"left_in_pool", m.pool_now}, {"left_queued", m.queue_now}});
  });
}

// The journal for `config`: RocksDB in journal_dir, or none when the config says so explicitly.
std::unique_ptr<Journal> open_journal(const RelayConfig& config, Clock& clock, Executor& executor) {
  if (config.run_without_journal) {
    logs::warn("running without a journal (run_without_journal = true): a crash or restart "
               "loses every message accepted and not yet delivered");
    return std::make_unique<NullJournal>();
  }
  RocksJournal::Options o;
  o.dir = config.journal_dir;
  o.commit_window = config.journal_commit_window;
  return RocksJournal::open(std::move(o), clock, executor);
}


int run(const std::string& config_path) {
  // A reload signal before the relay can take one must not end the process (SIGHUP's default).
  std::signal(SIGHUP, SIG_IGN);
  RelayConfig config = load_config(config_path, now_unix_s());
  logs::set_level(config.log_level);
  logs::info("starting", {{"version", VEIL_VERSION}, {"config", config_summary(config)}});
  // The admin endpoint answers from the start: /readyz says what the relay is still doing.
  AdminServer::Options admin_options;
  admin_options.listen = config.admin_listen;
  admin_options.unix_mode = config.unix_socket_mode;
  AdminServer admin(admin_options);
  admin.starting_step("reading the keys");
  std::string why;
  auto identity = load_relay_identity(config.key_dir, &why);
  if (!identity) throw std::runtime_error("key_dir: " + why);
  KeyDirEpochKeys keys(config.key_dir);
  const std::string key_dir = config.key_dir;
  const bool plain = config.plain_links;
  size_crypto_workers(config.crypto_workers);
  uv_loop_t* loop = uv_default_loop();
  UvClock clock(loop);
  UvExecutor executor(loop);
  UvTransport transport(loop);
  std::unique_ptr<LinkSecurity> security = make_security(config, identity->key, clock);
  FastRng rng;  // seeded from the system CSPRNG; the loop thread is its only user
  const std::string journal_dir = config.run_without_journal ? "" : config.journal_dir;
  Daemon d;
  d.config_path = config_path;
  d.admin.version = VEIL_VERSION;
  d.admin.directory_serial = config.directory_serial;
  d.admin.reloads.last_success_seconds = static_cast<double>(now_unix_s());
  d.admin_server = &admin;
  d.clock = &clock;
  d.started = config;
  d.directory_serial = config.directory_serial;
  d.drain_timeout = config.drain_timeout;
  d.metrics_file = config.metrics_file;
  d.metrics_period = std::max<Micros>(config.metrics_interval, 10'000);
  d.log_level = config.log_level;
  int status = 0;
  {
    admin.starting_step("opening the journal");
    std::unique_ptr<Journal> journal = open_journal(config, clock, executor);
    admin.starting_step("recovering the journal and opening the listeners");
    Relay relay(std::move(config), RelayEnv{clock, executor, transport, *security, *journal, rng, keys});
    d.relay = &relay;
    relay.on_epoch([&](uint64_t e) { on_epoch(e, key_dir, keys, rng); });
    relay.on_event([&relay](const RelayEvent& e) { on_relay_event(relay, e); });
    make_keys_ahead(relay.epoch(), key_dir, rng);
    try {
      relay.start();
    } catch (const std::exception&) {
      // A listener that cannot bind: the journal's writes in flight (recovery's commit) finish and
      // the handles close before the relay and the journal go; then the error is said.
      relay.stop();
      uv_run(loop, UV_RUN_DEFAULT);
      throw;
    }
    // Every metrics period: the metrics file (if any) and a look at the journal for the log.
    std::unique_ptr<Timer> metrics_timer;
    metrics_timer = clock.timer([&] {
      write_metrics(relay, d.metrics_file);
      metrics_timer->arm_at(clock.now() + d.metrics_period);
    });
    if (!d.metrics_file.empty()) metrics_timer->arm_at(clock.now() + d.metrics_period);
    std::unique_ptr<Timer> journal_watch;
    journal_watch = clock.timer([&] {
      watch_journal(d);
      watch_links(d);
      if (!d.drained) journal_watch->arm_at(clock.now() + 1'000'000);
    });
    journal_watch->arm_at(clock.now() + 1'000'000);
    // A drain whose last commit cannot be written (the journal keeps failing) ends 10 s after its
    // timeout: what was committed is safe, as after a crash.
    std::unique_ptr<Timer> deadline = clock.timer([] {
      event("drain_deadline_journal_failing");
      logs::error("drain deadline: the journal keeps failing; stopping with what it committed");
      std::_Exit(1);
    });
    UvMailbox mailbox(loop);
    d.mailbox = &mailbox;
    d.metrics_timer = metrics_timer.get();
    d.journal_watch = journal_watch.get();
    d.deadline = deadline.get();
    admin.attach([&mailbox](std::function<void()> job) { return mailbox.post(std::move(job)); },
                 [&relay, &d](std::string_view path) { return answer_admin(path, relay, d.admin); });
    VEIL_CHECK(uv_signal_init(loop, &d.sigint) == 0, "uv_signal_init");
    VEIL_CHECK(uv_signal_init(loop, &d.sigterm) == 0, "uv_signal_init");
    VEIL_CHECK(uv_signal_init(loop, &d.sighup) == 0, "uv_signal_init");
    d.sigint.data = &d;
    d.sigterm.data = &d;
    d.sighup.data = &d;
    VEIL_CHECK(uv_signal_start(&d.sighup, on_reload, SIGHUP) == 0, "uv_signal_start");
    VEIL_CHECK(uv_signal_start(&d.sigint, on_signal, SIGINT) == 0, "uv_signal_start");
    VEIL_CHECK(uv_signal_start(&d.sigterm, on_signal, SIGTERM) == 0, "uv_signal_start");
    const Metrics& m = relay.metrics();
    const nlohmann::json ready = {{"event", "ready"},
                                  {"peer_port", relay.peer_port()},
                                  {"submit_port", relay.submit_port()},
                                  {"admin_port", admin.port()},
                                  {"journal", journal_dir.empty() ? nlohmann::json(nullptr) : nlohmann::json("rocksdb")},
                                  {"links", plain ? "plain" : "tls"},
                                  {"epoch", relay.epoch()},
                                  {"packets_recovered", m.get(Counter::packets_recovered)},
                                  {"deliveries_recovered", m.get(Counter::deliveries_recovered)}};
    print_json(ready);
    logs::info("ready", {{"peer_port", relay.peer_port()}, {"submit_port", relay.submit_port()},
                         {"admin_port", admin.port()}, {"epoch", relay.epoch()},
                         {"packets_recovered", m.get(Counter::packets_recovered)},
                         {"deliveries_recovered", m.get(Counter::deliveries_recovered)}});
    notify_systemd("READY=1\nSTATUS=relaying, epoch " + std::to_string(relay.epoch()));
    uv_run(loop, UV_RUN_DEFAULT);
    admin.detach();
    mailbox.close();
    journal_watch->cancel();
    status = d.drained ? 0 : 1;
  }
  uv_run(loop, UV_RUN_DEFAULT);  // the close callbacks of the relay's and the journal's timers
  VEIL_CHECK(uv_loop_close(loop) == 0, "every handle is closed when the loop ran dry");
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"veil-relay: metadata-privacy relay for sealed-sender messages"};
  std::string config_path;
  bool check_only = false;
  app.set_version_flag("--version", std::string("veil-relay ") + VEIL_VERSION);
  app.add_option("-c,--config", config_path, "relay configuration (TOML, see docs/config.md)")
      ->required();
  app.add_flag("--check", check_only,
               "check the configuration, print every problem (stderr) and exit: 0 if valid, 1 if "
               "not; opens no socket");
  app.footer(
      "Runs one relay until SIGTERM or SIGINT (drain: the pool leaves on schedule, the rest stays in\n"
      "the journal; a second signal stops at once). SIGHUP reloads the config and the files it names.\n"
      "Logs: one JSON object per line on stderr. Events (ready, epoch, reload, draining, drained): one\n"
      "JSON object per line on stdout. Admin endpoint (admin_listen): /livez /readyz /metrics.\n"
      "Exit status: 0 after a drain, 1 on a bad config or a failed start. See docs/relay.md.");
  CLI11_PARSE(app, argc, argv);
  if (check_only) {
    const std::vector<std::string> problems = check_config_file(config_path, now_unix_s());
    for (const std::string& p : problems) std::fprintf(stderr, "%s\n", p.c_str());
    if (problems.empty()) std::printf("config ok: %s\n", config_path.c_str());
    return problems.empty() ? 0 : 1;
  }
  // A peer or client that goes away mid-write must cost one connection (EPIPE), not the process.
  std::signal(SIGPIPE, SIG_IGN);
  logs::init("info");
  RocksJournal::set_log([](const std::string& line) { logs::warn("rocksdb", {{"line", line}}); });
  try {
    return run(config_path);
  } catch (const std::exception& e) {
    // One line per problem (a config may have several).
    const std::string what = e.what();
    std::size_t from = 0;
    while (from <= what.size()) {
      const std::size_t nl = std::min(what.find('\n', from), what.size());
      logs::error("cannot start", {{"config", config_path}, {"problem", what.substr(from, nl - from)}});
      from = nl + 1;
    }
    return 1;
  }
}
