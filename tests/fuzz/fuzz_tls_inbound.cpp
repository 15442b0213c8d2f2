// Fuzzes the TLS link's server side as a dialing peer reaches it: bytes in fuzzer-chosen chunks
// through TlsSecurity's inbound handshake and record layer, sometimes with the handshake timeout
// firing part-way. Whatever arrives, the stream waits or closes; it never names a peer (no input
// can prove a directory key), never delivers data, and leaves no OpenSSL error behind for the next
// connection. Seeds (tests/fuzz/corpus/fuzz_tls_inbound): a ClientHello that
// TlsSecurity::outbound wrote, whole and with the timeout mode, and plain-text garbage.
#include <openssl/err.h>

#include <algorithm>

#include "base/clock.h"
#include "crypto/identity.h"
#include "fuzz_world.h"
#include "proxy/relay/tls/tls_security.h"
#include "proxy/sim/fed_stream.h"

using namespace veil;

namespace {

crypto::IdentityKey key_from(uint8_t fill) {
  const Bytes seed(crypto::kIdentitySeedSize, fill);
  auto k = crypto::IdentityKey::from_seed(seed);
  fuzz::check(static_cast<bool>(k));
  return std::move(*k);
}

constexpr Micros kTimeout = 1'000'000;

// One listener for every input (its certificate is made once); a directory of one other relay.
struct Listener {
  ManualClock clock;
  crypto::IdentityKey key = key_from(0x11);
  crypto::IdentityPublicKey dialer = key_from(0x22).public_key();
  relay::TlsSecurity security{
      key, clock, kTimeout,
      relay::TlsPeers{[this](const std::string& name) -> std::optional<crypto::IdentityPublicKey> {
                        if (name == "relay-dialer") return dialer;
                        return std::nullopt;
                      },
                      [this](const crypto::IdentityPublicKey& k) -> std::optional<std::string> {
                        if (k == dialer) return "relay-dialer";
                        return std::nullopt;
                      }}};
};

Listener& listener() {
  static Listener l;
  return l;
}

}  // namespace

// data[0]: bit 0 lets the handshake time out after the first chunk; the rest is the wire.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  Listener& l = listener();
  const bool time_out = (data[0] & 1) != 0;
  auto raw = std::make_shared<sim::FedStream>();
  auto secure = l.security.inbound(raw);
  bool closed = false;
  secure->start({[&](ByteView) { fuzz::check(false); }, nullptr, [&] { closed = true; }});
  std::size_t pos = 1;
  bool first = true;
  while (pos < size && !closed) {
    const std::size_t chunk = std::min<std::size_t>(size - pos, 1 + data[pos] % 211);
    raw->feed(ByteView(data + pos, chunk));
    pos += chunk;
    if (first && time_out) l.clock.advance(kTimeout);
    first = false;
  }
  raw->end();
  fuzz::check(closed);  // an end before a finished handshake closes the stream
  fuzz::check(!secure->peer());
  fuzz::check(ERR_peek_error() == 0);
  fuzz::check(l.clock.armed_timers() == 0);
  return 0;
}
