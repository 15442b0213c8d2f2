// TLS link handshake cost (`veil-bench tls` shows it next to a real relay's): full TLS 1.3
// handshakes between two TlsSecurity instances in one process over in-memory streams, timed on
// one core, with the listener's share (the cost a relay pays per accepted peer connection)
// measured apart.
#pragma once

#include <cstddef>

namespace veil::bench {

struct TlsHandshakeRate {
  std::size_t handshakes = 0;     // completed on both ends
  double seconds = 0;             // wall time of the whole run (both ends)
  double server_seconds = 0;      // of which inside the listener's stream (its share of the work)
  double per_second = 0;          // handshakes / seconds: both ends on one core
  double server_per_second = 0;   // handshakes / server_seconds: what one core could accept
};

// Runs `handshakes` handshakes one after another (each a fresh connection, as a redial makes) and
// times them with the steady clock. Throws std::runtime_error if one does not complete.
TlsHandshakeRate measure_tls_handshakes(std::size_t handshakes);

}  // namespace veil::bench
