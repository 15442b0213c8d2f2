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
#include <string>
#include <vector>

#include "base/check.h"
#include "proxy/relay/admin/admin_routes.h"
#include "proxy/relay/admin/admin_server.h"
#include "proxy/relay/core/relay.h"
#include "proxy/relay/core/relay_keys.h"
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
    std::fprintf(stderr,
                 "veil-relay: WARNING: plain peer links (plain_links = true): anyone who can reach "
                 "the peer port can claim to be a relay, and link observers see the packets\n");
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
    std::fprintf(stderr, "veil-relay: metrics_file %s: cannot be written (%s)\n", path.c_str(),
                 std::strerror(errno));
  }
  if (ok) warned = false;
}

struct Daemon {
  AdminContext admin;  // what /metrics shows beyond the relay
  AdminServer* admin_server;
  UvMailbox* mailbox;
  Clock* clock;
  Relay* relay;
  const RelayConfig* config;  // as started: the directory of a reload is checked against it
  uint64_t directory_serial;
  Micros drain_timeout;
  std::string metrics_file;
  Timer* metrics_timer;
  Timer* deadline;  // ends a drain the journal cannot finish
  uv_signal_t sigint;
  uv_signal_t sigterm;
  uv_signal_t sighup;
  bool signalled = false;
  bool drained = false;
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

// Keys for `epoch` and the kEpochKeysAhead - 1 after it, made where missing.
void make_keys_ahead(uint64_t epoch, const std::string& key_dir, Rng& rng) {
  std::string why;
  if (ensure_epoch_keys(key_dir, epoch, epoch + kEpochKeysAhead, rng, &why) != Error::ok) {
    std::fprintf(stderr, "veil-relay: key_dir: cannot make epoch keys ahead: %s\n", why.c_str());
  }
}

// An epoch switch: said on stdout, keys made ahead for the epochs to come, and any key that
// could not be read or wiped since the last switch said on stderr.
void on_epoch(uint64_t epoch, const std::string& key_dir, KeyDirEpochKeys& keys, Rng& rng) {
  std::printf("{\"event\":\"epoch\",\"epoch\":%llu}\n", static_cast<unsigned long long>(epoch));
  std::fflush(stdout);
  const std::string problem = keys.take_problem();
  if (!problem.empty()) std::fprintf(stderr, "veil-relay: key_dir: %s\n", problem.c_str());
  make_keys_ahead(epoch, key_dir, rng);
}

void print_json(const nlohmann::json& j) {
  std::printf("%s\n", j.dump().c_str());
  std::fflush(stdout);
}

// SIGHUP: directory_file again. A newer good directory applies at once (peers' epoch keys; what
// only a restart can apply is listed); anything else is refused and the last good one stays.
void reload(Daemon* d) {
  RelayConfig next = *d->config;
  std::vector<std::string> problems = attach_directory(next, now_unix_s());
  if (problems.empty() && next.directory_serial <= d->directory_serial) {
    problems.push_back("directory_file: serial " + std::to_string(next.directory_serial) +
                       " is not newer than the running directory's " + std::to_string(d->directory_serial));
  }
  if (!problems.empty()) {
    d->relay->directory_refused();
    ++d->admin.reloads.refused;
    print_json({{"event", "directory_refused"}, {"serial", d->directory_serial}, {"problems", problems}});
    return;
  }
  if (next.epoch_timing.genesis != d->config->epoch_timing.genesis ||
      next.epoch_timing.length != d->config->epoch_timing.length) {
    d->relay->directory_refused();
    ++d->admin.reloads.refused;
    print_json({{"event", "directory_refused"},
                {"serial", d->directory_serial},
                {"problems", {"directory_file: another epoch schedule: needs a restart"}}});
    return;
  }
  const std::vector<std::string> restart = d->relay->update_directory(next);
  d->directory_serial = next.directory_serial;
  d->admin.directory_serial = next.directory_serial;
  ++d->admin.reloads.applied;
  d->admin.reloads.last_success_seconds = static_cast<double>(now_unix_s());
  print_json({{"event", "directory"}, {"serial", next.directory_serial}, {"needs_restart", restart}});
}

void on_reload(uv_signal_t* s, int) {
  notify_systemd("RELOADING=1");
  reload(static_cast<Daemon*>(s->data));
  notify_systemd("READY=1");
}

// SIGTERM or SIGINT: drain (stop taking work, let the pool leave on schedule, keep the rest in
// the journal), then exit 0. A second signal stops at once: what the journal committed is safe,
// as after a crash.
void on_signal(uv_signal_t* s, int) {
  auto* d = static_cast<Daemon*>(s->data);
  if (d->signalled) {
    event("stopped_at_once");
    std::_Exit(1);
  }
  d->signalled = true;
  event("draining");
  notify_systemd("STOPPING=1\nSTATUS=draining");
  d->deadline->arm_at(d->clock->now() + d->drain_timeout + 10'000'000);
  d->relay->drain(d->drain_timeout, [d] {
    d->drained = true;
    d->deadline->cancel();
    d->metrics_timer->cancel();
    write_metrics(*d->relay, d->metrics_file);
    close_signals(*d);
    d->admin_server->detach();
    d->mailbox->close();
    event("drained");
  });
}

// The journal for `config`: RocksDB in journal_dir, or none when the config says so explicitly.
std::unique_ptr<Journal> open_journal(const RelayConfig& config, Clock& clock, Executor& executor) {
  if (config.run_without_journal) {
    std::fprintf(stderr,
                 "veil-relay: WARNING: running without a journal (run_without_journal = true): a "
                 "crash or restart loses every message accepted and not yet delivered\n");
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
  // The admin endpoint answers from the start: /readyz says what the relay is still doing.
  AdminServer::Options admin_options;
  admin_options.listen = config.admin_listen;
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
  const std::string metrics_file = config.metrics_file;
  const Micros metrics_period = std::max<Micros>(config.metrics_interval, 10'000);
  const Micros drain_timeout = config.drain_timeout;
  const std::string journal_dir = config.run_without_journal ? "" : config.journal_dir;
  int status = 0;
  {
    admin.starting_step("opening the journal");
    std::unique_ptr<Journal> journal = open_journal(config, clock, executor);
    admin.starting_step("recovering the journal and opening the listeners");
    const RelayConfig started = config;
    Relay relay(std::move(config), RelayEnv{clock, executor, transport, *security, *journal, rng, keys});
    relay.on_epoch([&](uint64_t e) { on_epoch(e, key_dir, keys, rng); });
    make_keys_ahead(relay.epoch(), key_dir, rng);
    relay.start();
    std::unique_ptr<Timer> metrics_timer;
    metrics_timer = clock.timer([&] {
      write_metrics(relay, metrics_file);
      metrics_timer->arm_at(clock.now() + metrics_period);
    });
    if (!metrics_file.empty()) metrics_timer->arm_at(clock.now() + metrics_period);
    // A drain whose last commit cannot be written (the journal keeps failing) ends 10 s after its
    // timeout: what was committed is safe, as after a crash.
    std::unique_ptr<Timer> deadline = clock.timer([] {
      event("drain_deadline_journal_failing");
      std::_Exit(1);
    });
    UvMailbox mailbox(loop);
    AdminContext admin_context;
    admin_context.version = VEIL_VERSION;
    admin_context.directory_serial = started.directory_serial;
    admin_context.reloads.last_success_seconds = static_cast<double>(now_unix_s());
    Daemon d{admin_context, &admin, &mailbox, &clock, &relay, &started, started.directory_serial,
             drain_timeout, metrics_file, metrics_timer.get(), deadline.get(), {}, {}, {}, false, false};
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
    std::printf(
        "{\"event\":\"ready\",\"peer_port\":%u,\"submit_port\":%u,\"admin_port\":%u,\"journal\":%s,"
        "\"links\":\"%s\",\"epoch\":%llu,\"packets_recovered\":%llu,\"deliveries_recovered\":%llu}\n",
        relay.peer_port(), relay.submit_port(), admin.port(), journal_dir.empty() ? "null" : "\"rocksdb\"",
        plain ? "plain" : "tls", static_cast<unsigned long long>(relay.epoch()),
        static_cast<unsigned long long>(m.get(Counter::packets_recovered)),
        static_cast<unsigned long long>(m.get(Counter::deliveries_recovered)));
    std::fflush(stdout);
    notify_systemd("READY=1\nSTATUS=relaying, epoch " + std::to_string(relay.epoch()));
    uv_run(loop, UV_RUN_DEFAULT);
    admin.detach();
    mailbox.close();
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
  app.add_option("-c,--config", config_path, "relay configuration (TOML, see docs/config.md)")
      ->required();
  app.set_version_flag("--version", std::string("veil-relay ") + VEIL_VERSION);
  app.add_flag("--check", check_only,
               "check the configuration, print every problem (stderr) and exit: 0 if valid, 1 if "
               "not; opens no socket");
  CLI11_PARSE(app, argc, argv);
  if (check_only) {
    const std::vector<std::string> problems = check_config_file(config_path, now_unix_s());
    for (const std::string& p : problems) std::fprintf(stderr, "%s\n", p.c_str());
    if (problems.empty()) std::printf("config ok: %s\n", config_path.c_str());
    return problems.empty() ? 0 : 1;
  }
  // A peer or client that goes away mid-write must cost one connection (EPIPE), not the process.
  std::signal(SIGPIPE, SIG_IGN);
  try {
    return run(config_path);
  } catch (const std::exception& e) {
    // One line per problem (a config may have several), each naming the program.
    const std::string what = e.what();
    std::size_t from = 0;
    while (from <= what.size()) {
      const std::size_t nl = std::min(what.find('\n', from), what.size());
      std::fprintf(stderr, "veil-relay: %s\n", what.substr(from, nl - from).c_str());
      from = nl + 1;
    }
    return 1;
  }
}
