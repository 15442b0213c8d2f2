// Where a relay listens or dials: host:port (numeric IPv4/IPv6) or a Unix socket path.
#pragma once

#include <cstdint>
#include <string>

namespace veil::relay {

struct Endpoint {
  std::string host;       // IPv4/IPv6 literal, or empty when unused
  uint16_t port = 0;      // 0 = let the kernel choose (the chosen port is reported on stdout)
  std::string unix_path;  // Unix socket path instead of host:port, if set
  unsigned unix_mode = 0660;  // listening: the socket file's permissions (owner and group)
  bool enabled() const { return !host.empty() || !unix_path.empty(); }
};

}  // namespace veil::relay
