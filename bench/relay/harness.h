// Shared pieces of the relay benchmarks (throughput.cpp, journal_bench.cpp): one real veil-relay
// process in front of a fake peer, pre-built submissions, a closed- or open-loop submitter, and
// helpers that read a process's CPU time and memory.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/rng.h"
#include "crypto/keys.h"
#include "bench/relay/fake_peer.h"
#include "proxy/sim/network.h"
#include "proxy/sim/temp_dir.h"

namespace veil::bench {

constexpr std::size_t kPacketSize = 4096;

// Restricts the calling thread (and the threads and processes it starts later) to `cores` CPUs
// from `first_core` on.
void pin_self(int first_core, int cores);
// Resident set of a process, KiB (-1 if unknown).
long rss_kib(pid_t pid);
// CPU seconds (user + system) the process has used so far.
double cpu_seconds(pid_t pid);
// The same from a /proc stat file (/proc/PID/stat, or /proc/PID/task/TID/stat for one thread).
double cpu_seconds_in(const std::string& stat_path);
// The q-quantile of `v` (nearest rank); 0 for an empty vector.
double quantile(std::vector<double> v, double q);
// x rounded to `digits` decimals (for printed figures).
double round_to(double x, int digits);
// The first three fields of /proc/loadavg.
std::string load_average();
// Waits (up to 3 s) until the process is idle: under 1.5 % of a core over 100 ms. A window should
// not pay for the work another one left behind (RocksDB flushing a memtable, say).
void wait_idle(pid_t pid);
// X25519 operations per second with one thread on each of `cores` CPUs from `first_core` on, all
// running at once for `seconds` (the speed of these virtual CPUs drifts, so the bound is measured
// next to each run rather than once).
double x25519_rate(int first_core, int cores, double seconds);

// One provider relay "name" whose only peer is a PacketSink; the relay's files (config, keys,
// metrics, journal) live in a scratch directory of its own.
struct RelaySetup {
  sim::TempDir scratch;  // declared first: removed after the relay process is gone
  SystemRng rng;
  std::vector<sim::RelayNode> nodes;  // [0]: the relay, [1]: the sink
  sim::RelayNode sink_node;
  std::unique_ptr<PacketSink> sink;
  std::unique_ptr<sim::RelayProcess> relay;

  RelaySetup(const std::string& name, bool provider, const nlohmann::json& settings);
  ~RelaySetup();
  // Starts the relay with every thread of it on core 1 (cores == 1) or cores 0-1 (cores == 2);
  // the calling thread goes back to core 0. Waits for its ready line and its link to the sink.
  void start(int cores, int ready_timeout_ms = 10000);
  // Starts the relay as start() does but waits only for its ready line; returns the seconds from
  // just before the process was spawned to the ready line.
  double spawn(int cores, int ready_timeout_ms = 10000);
  // The relay's journal directory and metrics file (as sim::relay_config names them).
  std::string journal_dir() const;
  std::string metrics_file() const;
};

// The relay settings every relay benchmark starts from: mix none, no cover, no mix hops, 4096 B
// packets, queues large enough never to refuse, plain peer links (the fake peers speak plain
// frames; `veil-bench tls` sets plain_links = false where it measures TLS).
nlohmann::json base_settings();

// `count` pre-built submit frames with real SSv1 envelopes (300-800 B) to "sink.example".
std::vector<Bytes> submission_frames(std::size_t count, Rng& rng);

// `count` pre-built unique packet frames for a mix: u32 length || 0x02 || u64 seq (zero, filled
// in when sent) || a 4096-byte packet with one onion layer for `mix` (its key) forwarding to
// `sink` (whose layer delivers a 64-byte payload). Built on cores 0 and 1, one thread each.
std::vector<Bytes> mix_packet_frames(std::size_t count, const crypto::PublicKey& mix_key,
                                     const std::string& mix_name, const crypto::PublicKey& sink_key);

struct PipelineResult {
  uint64_t sent = 0, accepted = 0, rejected = 0;
};

// Sends `frames` (cycling) to a submit port until `stop` (or, if `limit` is not 0, until `limit`
// were sent), then waits for the answers (up to 10 s). rate_per_s == 0: closed loop, batches of
// 32, at most `window` unanswered. rate_per_s > 0: open loop, one frame at a time at that rate,
// each send time recorded in `send_times` if given.
PipelineResult run_submitter(uint16_t port, const std::vector<Bytes>& frames, std::atomic<bool>& stop,
                             std::size_t window, double rate_per_s, std::vector<int64_t>* send_times,
                             uint64_t limit = 0);

// Waits up to `seconds` until `sink` has received `count` packets.
bool wait_for(const PacketSink& sink, uint64_t count, double seconds);

}  // namespace veil::bench
