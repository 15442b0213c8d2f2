// One measured point of the privacy bench: real veil-relay processes on loopback (provider relay A
// with the mix under study → tap → provider relay B), a paced synthetic workload, and the trace.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bench/privacy/anonymity.h"
#include "bench/privacy/workload.h"

namespace veil::bench::privacy {

struct PointConfig {
  nlohmann::json mix;        // relay A's "mix" object, e.g. {"strategy":"poisson","mean_delay_ms":200}
  double rate = 1000;        // offered messages/s (Poisson)
  Bursts bursts;
  double send_seconds = 5;   // length of the sending phase
  double drain_seconds = 1;  // relays keep running this long after the last send
  double cover_drop = 0;     // relay A's cover rates (packets/s)
  double cover_loop = 0;
  std::size_t connections = 1;  // submit connections (one sending thread each)
  std::size_t max_messages = 0; // bank messages usable (0 = the whole bank)
  uint64_t seed = 1;
};

struct RunResult {
  Trace trace;                   // times in seconds from the first scheduled send
  double send_end = 0;           // time of the last send
  double run_end = 0;            // time the relays were stopped
  std::size_t scheduled = 0;
  std::size_t accepted = 0;
  std::size_t rejected = 0;
  std::size_t unanswered = 0;
  std::map<std::string, std::size_t> reject_reasons;
  double lateness_p99_ms = 0;    // how late sends were against the schedule (load generator lag)
  double lateness_max_ms = 0;
  std::size_t real_packets = 0, cover_drop_packets = 0, cover_loop_packets = 0;
  std::size_t duplicate_packets = 0;  // the same message seen again (retransmission)
  std::size_t unreadable_packets = 0;
  uint64_t real_bytes = 0, cover_bytes = 0;  // frame bytes on the A→B link
  std::vector<uint32_t> frame_sizes;         // distinct frame sizes seen on the link
  std::vector<double> latency_ms;            // per accepted message: link time − submit time (NaN if never out)
  std::vector<double> delivery_ms;           // per accepted message: delivery at B − submit time (NaN if none)
  std::size_t deliveries = 0;
  std::size_t verified = 0, verify_failed = 0;  // sampled deliveries opened with the recipient's key
  nlohmann::json metrics_a, metrics_b;
  std::string error;             // non-empty if the run failed
};

// Runs one point; `progress(fraction)` is called from the calling thread every ~100 ms.
RunResult run_point(const World& world, const PointConfig& config,
                    const std::function<void(double)>& progress);

}  // namespace veil::bench::privacy
