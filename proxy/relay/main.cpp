// veil-relay: runs one relay from its TOML config until SIGINT/SIGTERM, on a libuv loop
// (--check: only checks the config).
#include <uv.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "base/check.h"
#include "proxy/relay/core/relay.h"
#include "proxy/relay/uv/uv_clock.h"
#include "proxy/relay/uv/uv_executor.h"
#include "proxy/relay/uv/uv_transport.h"

namespace {

using namespace veil;
using namespace veil::relay;

crypto::KeyPair load_key(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  Bytes raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto key = crypto::PrivateKey::parse(raw);
  wipe(raw);
  if (!key) throw std::runtime_error("epoch_key_file " + path + ": not a 32-byte private key");
  return crypto::KeyPair::from_private(std::move(*key));
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
void write_metrics(const Relay& relay, const std::string& path) {
  if (path.empty()) return;
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << relay.metrics().to_json() << "\n";
  }
  std::rename(tmp.c_str(), path.c_str());
}

struct Daemon {
  Relay* relay;
  std::string metrics_file;
  Timer* metrics_timer;
  uv_signal_t sigint;
  uv_signal_t sigterm;
};

void on_signal(uv_signal_t* s, int) {
  auto* d = static_cast<Daemon*>(s->data);
  d->relay->stop();
  d->metrics_timer->cancel();
  write_metrics(*d->relay, d->metrics_file);
  uv_close(reinterpret_cast<uv_handle_t*>(&d->sigint), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&d->sigterm), nullptr);
}

int run(const std::string& config_path) {
  RelayConfig config = load_config(config_path);
  crypto::KeyPair key = load_key(config.epoch_key_file);
  size_crypto_workers(config.crypto_workers);
  uv_loop_t* loop = uv_default_loop();
  UvClock clock(loop);
  UvExecutor executor(loop);
  UvTransport transport(loop);
  NullSecurity security(config.name);
  NullJournal journal;
  FastRng rng;  // seeded from the system CSPRNG; the loop thread is its only user
  const std::string metrics_file = config.metrics_file;
  const Micros metrics_period = std::max<Micros>(config.metrics_interval, 10'000);
  {
    Relay relay(std::move(config), std::move(key),
                RelayEnv{clock, executor, transport, security, journal, rng});
    relay.start();
    std::unique_ptr<Timer> metrics_timer;
    metrics_timer = clock.timer([&] {
      write_metrics(relay, metrics_file);
      metrics_timer->arm_at(clock.now() + metrics_period);
    });
    if (!metrics_file.empty()) metrics_timer->arm_at(clock.now() + metrics_period);
    Daemon d{&relay, metrics_file, metrics_timer.get(), {}, {}};
    VEIL_CHECK(uv_signal_init(loop, &d.sigint) == 0, "uv_signal_init");
    VEIL_CHECK(uv_signal_init(loop, &d.sigterm) == 0, "uv_signal_init");
    d.sigint.data = &d;
    d.sigterm.data = &d;
    VEIL_CHECK(uv_signal_start(&d.sigint, on_signal, SIGINT) == 0, "uv_signal_start");
    VEIL_CHECK(uv_signal_start(&d.sigterm, on_signal, SIGTERM) == 0, "uv_signal_start");
    std::printf("{\"event\":\"ready\",\"peer_port\":%u,\"submit_port\":%u}\n", relay.peer_port(),
                relay.submit_port());
    std::fflush(stdout);
    uv_run(loop, UV_RUN_DEFAULT);
  }
  uv_run(loop, UV_RUN_DEFAULT);  // the close callbacks of the relay's timers
  VEIL_CHECK(uv_loop_close(loop) == 0, "every handle is closed when the loop ran dry");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"veil-relay: metadata-privacy relay for sealed-sender messages"};
  std::string config_path;
  bool check_only = false;
  app.add_option("-c,--config", config_path, "relay configuration (TOML, see docs/config.md)")
      ->required();
  app.add_flag("--check", check_only,
               "check the configuration, print every problem (stderr) and exit: 0 if valid, 1 if "
               "not; opens no socket");
  CLI11_PARSE(app, argc, argv);
  if (check_only) {
    const std::vector<std::string> problems = check_config_file(config_path);
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
