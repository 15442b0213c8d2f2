// The relay's metrics in the Prometheus text exposition format 0.0.4
// (https://prometheus.io/docs/instrumenting/exposition_formats/), named by Prometheus conventions:
// `veil_` prefix, base units (seconds, bytes), `_total` on counters, cumulative `le` buckets on
// histograms. No label names a user, a recipient, a submitter or a single message; the only
// labels are reasons, kinds, results and peer relay names (public infrastructure). docs/metrics.md
// lists every family.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/relay/core/histogram.h"
#include "proxy/relay/core/metrics.h"
#include "proxy/relay/core/relay.h"

namespace veil::relay {

// The standard process metrics (process_*), read by the daemon from /proc.
struct ProcessStats {
  double cpu_seconds = 0;         // user + system CPU time
  uint64_t resident_bytes = 0;
  uint64_t virtual_bytes = 0;
  uint64_t open_fds = 0;
  uint64_t max_fds = 0;           // the soft RLIMIT_NOFILE
  double start_time_seconds = 0;  // unix time the process started
};

// Config reloads (SIGHUP) the daemon made, for veil_config_reloads_total.
struct ReloadStats {
  uint64_t applied = 0;
  uint64_t refused = 0;
  double last_success_seconds = 0;  // unix time of the last config applied (start counts)
};

// Everything one scrape shows, gathered on the loop thread.
struct ExpositionInput {
  const Metrics* metrics = nullptr;  // required
  std::string version;               // veil_build_info{version}
  std::string role;                  // "provider" or "mix"
  bool ready = false;
  std::vector<PeerLinkStatus> peers;
  std::optional<DeliverLinkStatus> deliver;  // provider relays only
  uint64_t directory_serial = 0;
  int64_t directory_valid_until = 0;       // unix s; 0: none
  int64_t epoch_keys_published_until = 0;  // unix s; 0: none
  ReloadStats reloads;
  std::optional<ProcessStats> process;
};

// Renders `in` as exposition text, every family with HELP and TYPE lines, terminated by a
// newline. Histograms of seconds have buckets 2^k µs for k = 6..34 (64 µs .. 4.8 h); histograms of
// packet counts 2^k - 1 for k = 0..20; both end with +Inf.
std::string render_exposition(const ExpositionInput& in);

// A label value escaped as the text format asks (backslash, double quote, line feed).
std::string escape_label_value(std::string_view v);

}  // namespace veil::relay
