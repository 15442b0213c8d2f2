// The three parts of `veil-bench tls` (tls_sidecar.cpp, tls_unwrap.cpp, tls_accept.cpp) and the
// relay setup they share.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <vector>

#include "base/bytes.h"
#include "bench/relay/harness.h"
#include "bench/relay/tls_bench.h"

namespace veil::bench {

// base_settings() with TLS links (`tls`) or plain ones, and without the journal unless `journal`.
nlohmann::json link_settings(bool tls, bool journal);
// Makes the keys and directory of s.nodes now (sim::write_directory) and serves the sink's link
// with TLS as "sink"; call after every node was added and before start().
void secure_links(RelaySetup& s);
void print_json(const nlohmann::json& j);

struct SidecarTls {
  bool ok = false;
  double plain = 0, tls = 0;                 // msg/s over all windows of each kind
  double ratio_min = 0, ratio_max = 0;       // per pair of windows
  double plain_us = 0, tls_us = 0;           // relay CPU per message
  double plain_cores = 0, tls_cores = 0;     // relay cores used
  double plain_loop = 0, tls_loop = 0;       // of which the loop thread
};
SidecarTls tls_sidecar(const TlsBenchOptions& o, const std::vector<Bytes>& frames, int& rc);

struct UnwrapTls {
  bool ok = false;
  double plain = 0, tls = 0;              // msg/s
  double plain_share = 0, tls_share = 0;  // of the X25519 bound measured around each window
  double bound = 0;                       // mean bound over every window
  double plain_us = 0, tls_us = 0;        // relay CPU per packet
};
UnwrapTls tls_unwrap(const TlsBenchOptions& o, int& rc);

struct AcceptTls {
  bool ok = false;
  double per_second = 0;       // handshakes the relay completed per second of the window
  double relay_cores = 0;      // CPU the relay used meanwhile (1 = its one core saturated)
  double per_core_second = 0;  // handshakes per CPU second of the relay
  double in_process_server = 0;  // measure_tls_handshakes: the listener's share, per second
  double in_process_both = 0;    // both ends on one core
};
AcceptTls tls_accept(const TlsBenchOptions& o, int& rc);

}  // namespace veil::bench
