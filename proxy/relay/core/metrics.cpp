// Metric aggregation and JSON rendering.
#include "proxy/relay/core/metrics.h"

#include <nlohmann/json.hpp>

namespace veil::relay {

void Metrics::reject(Error e) {
  const auto i = static_cast<std::size_t>(e);
  if (i < rejected_by_reason.size()) ++rejected_by_reason[i];
  inc(Counter::submissions_rejected);
}

std::string Metrics::to_json() const {
  nlohmann::json j;
  static const char* const kNames[] = {
#define VEIL_COUNTER_NAME(name) #name,
      VEIL_COUNTERS(VEIL_COUNTER_NAME)
#undef VEIL_COUNTER_NAME
  };
  for (std::size_t i = 0; i < counters.size(); ++i) j["counters"][kNames[i]] = counters[i];
  for (std::size_t i = 0; i < rejected_by_reason.size(); ++i) {
    if (rejected_by_reason[i] != 0) {
      j["rejected_by_reason"][std::string(error_name(static_cast<Error>(i)))] = rejected_by_reason[i];
    }
  }
  auto hist = [](const Histogram& h) {
    return nlohmann::json{{"count", h.count()}, {"mean", h.mean()}, {"p50", h.quantile(0.5)},
                          {"p95", h.quantile(0.95)}, {"p99", h.quantile(0.99)}, {"max", h.max()}};
  };
  j["pool_size"] = hist(pool_size);
  j["relay_latency_us"] = hist(relay_latency_us);
  j["loop_latency_us"] = hist(loop_latency_us);
  j["gauges"] = {{"pool", pool_now}, {"queued", queue_now}, {"loop_alarm", loop_alarm},
                {"draining", draining}, {"journal_failing", journal.failing},
                {"epoch", epoch}};
  j["links"] = {{"handshakes_completed", links.handshakes_completed},
                {"handshakes_failed", links.handshakes_failed},
                {"handshakes_timed_out", links.handshakes_timed_out},
                {"peers_refused_unknown_key", links.peers_refused_unknown_key},
                {"peers_refused_wrong_key", links.peers_refused_wrong_key}};
  j["journal"] = {{"syncs", journal.syncs}, {"bytes_written", journal.bytes_written},
                  {"write_errors", journal.write_errors},
                  {"sync_seconds", static_cast<double>(journal.sync_micros) / 1e6}};
  return j.dump();
}

}  // namespace veil::relay
