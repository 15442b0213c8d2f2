// veil-relay: runs one relay from a TOML config until SIGINT/SIGTERM (--check: only checks the config).
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

#include "proxy/relay/core/config.h"
#include "proxy/relay/relay.h"
#include "proxy/relay/system_clock.h"

namespace {

veil::crypto::KeyPair load_key(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  veil::Bytes raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto key = veil::crypto::PrivateKey::parse(raw);
  veil::wipe(raw);
  if (!key) throw std::runtime_error("epoch_key_file " + path + ": not a 32-byte private key");
  return veil::crypto::KeyPair::from_private(std::move(*key));
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

struct SignalContext {
  veil::relay::Relay* relay;
  uv_signal_t sigint;
  uv_signal_t sigterm;
};

void on_signal(uv_signal_t* s, int) {
  auto* ctx = static_cast<SignalContext*>(s->data);
  ctx->relay->stop();
  uv_close(reinterpret_cast<uv_handle_t*>(&ctx->sigint), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&ctx->sigterm), nullptr);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"veil-relay: metadata-privacy relay for sealed-sender messages"};
  std::string config_path;
  bool check_only = false;
  app.add_option("-c,--config", config_path, "relay configuration (TOML, see docs/config.md)")->required();
  app.add_flag("--check", check_only,
               "check the configuration, print every problem (stderr) and exit: 0 if valid, 1 if not; "
               "opens no socket");
  CLI11_PARSE(app, argc, argv);
  if (check_only) {
    const std::vector<std::string> problems = veil::relay::check_config_file(config_path);
    for (const std::string& p : problems) std::fprintf(stderr, "%s\n", p.c_str());
    if (problems.empty()) std::printf("config ok: %s\n", config_path.c_str());
    return problems.empty() ? 0 : 1;
  }
  // A peer or client that goes away mid-write must cost one connection (EPIPE), not the process.
  std::signal(SIGPIPE, SIG_IGN);
  try {
    veil::relay::RelayConfig config = veil::relay::load_config(config_path);
    veil::crypto::KeyPair key = load_key(config.epoch_key_file);
    size_crypto_workers(config.crypto_workers);
    uv_loop_t* loop = uv_default_loop();
    veil::relay::SystemClock clock;
    veil::relay::MemoryJournal journal;
    veil::FastRng rng;  // seeded from the system CSPRNG; the loop thread is its only user
    veil::relay::Relay relay(loop, std::move(config), std::move(key), clock, rng,
                             journal, veil::relay::wall_clock_ms);
    relay.start();
    SignalContext ctx{&relay, {}, {}};
    uv_signal_init(loop, &ctx.sigint);
    uv_signal_init(loop, &ctx.sigterm);
    ctx.sigint.data = &ctx;
    ctx.sigterm.data = &ctx;
    uv_signal_start(&ctx.sigint, on_signal, SIGINT);
    uv_signal_start(&ctx.sigterm, on_signal, SIGTERM);
    std::printf("{\"event\":\"ready\",\"peer_port\":%u,\"submit_port\":%u}\n", relay.peer_port(),
                relay.submit_port());
    std::fflush(stdout);
    uv_run(loop, UV_RUN_DEFAULT);
    uv_loop_close(loop);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "veil-relay: %s\n", e.what());
    return 1;
  }
}
