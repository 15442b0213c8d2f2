// Test-side client of a relay's admin endpoint: GET through curl (Debian's curl, never our own
// HTTP code), the Prometheus checks of promtool (Debian's prometheus package), and a sample's
// value looked up in exposition text that promtool accepted.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace veil::sim {

struct HttpReply {
  int status = 0;  // 0: no answer (refused, timed out)
  std::string body;
};

// GET http://127.0.0.1:<port><path> (or over the Unix socket `unix_socket` when it is not empty),
// giving up after `timeout_ms`.
HttpReply http_get(uint16_t port, const std::string& path, int timeout_ms = 3000,
                   const std::string& unix_socket = "");

// `promtool check metrics` on `exposition`: its complaints (parse errors and lint problems),
// empty when it passed.
std::string promtool_problems(const std::string& exposition);

// The value of the sample named exactly `series` (name plus labels as printed, e.g.
// `veil_packets_dropped_total{reason="replay"}`), or nullopt if there is none.
std::optional<double> sample_value(const std::string& exposition, const std::string& series);

}  // namespace veil::sim
