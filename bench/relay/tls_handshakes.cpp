// TLS handshake benchmark: two TlsSecurity ends joined by a pair of direct in-memory streams.
#include "bench/relay/tls_handshakes.h"

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <stdexcept>

#include "base/clock.h"
#include "crypto/identity.h"
#include "proxy/relay/tls/tls_security.h"

namespace veil::bench {
namespace {

using Steady = std::chrono::steady_clock;

// One end of a direct connection: writes queue for the other end; deliver() hands them over.
class Wire final : public relay::Stream {
 public:
  void start(Handlers h) override { h_ = std::move(h); }
  void pause() override {}
  void resume() override {}
  void write(std::span<const ByteView> pieces) override {
    if (closed_) return;
    Bytes chunk;
    for (ByteView p : pieces) append(chunk, p);
    append(other->inbox_, chunk);
  }
  void close() override { closed_ = true; }
  void close_when_flushed() override { close(); }
  bool closed() const override { return closed_; }
  std::size_t pending_bytes() const override { return 0; }
  // Delivers what the other end wrote as one read; false if there was nothing.
  bool deliver() {
    if (inbox_.empty() || closed_ || !h_.on_data) return false;
    Bytes chunk = std::move(inbox_);
    inbox_.clear();
    h_.on_data(chunk);
    return true;
  }
  void finish() {
    Handlers h = std::move(h_);
    h_ = {};
    if (h.on_close) h.on_close();
  }
  Wire* other = nullptr;

 private:
  Handlers h_;
  Bytes inbox_;
  bool closed_ = false;
};

crypto::IdentityKey key_from(uint8_t fill) {
  const Bytes seed(crypto::kIdentitySeedSize, fill);
  auto k = crypto::IdentityKey::from_seed(seed);
  if (!k) throw std::runtime_error("tls bench: bad seed");
  return std::move(*k);
}

}  // namespace

TlsHandshakeRate measure_tls_handshakes(std::size_t handshakes) {
  ManualClock clock;
  const crypto::IdentityKey dialer_key = key_from(0xA1), listener_key = key_from(0xB2);
  const auto dialer_pub = dialer_key.public_key(), listener_pub = listener_key.public_key();
  relay::TlsPeers peers{
      [&](const std::string& name) -> std::optional<crypto::IdentityPublicKey> {
        if (name == "listener") return listener_pub;
        return std::nullopt;
      },
      [&](const crypto::IdentityPublicKey& k) -> std::optional<std::string> {
        if (k == dialer_pub) return std::string("dialer");
        return std::nullopt;
      }};
  relay::TlsSecurity dialer(dialer_key, clock, 60'000'000, peers);
  relay::TlsSecurity listener(listener_key, clock, 60'000'000, peers);

  TlsHandshakeRate r;
  Steady::duration server{};
  const auto start = Steady::now();
  for (std::size_t i = 0; i < handshakes; ++i) {
    auto a = std::make_shared<Wire>(), b = std::make_shared<Wire>();
    a->other = b.get();
    b->other = a.get();
    auto out = dialer.outbound(a, "listener");
    out->start({[](ByteView) {}, nullptr, nullptr});
    const auto s0 = Steady::now();
    auto in = listener.inbound(b);
    in->start({[](ByteView) {}, nullptr, nullptr});
    server += Steady::now() - s0;
    for (bool moved = true; moved;) {
      moved = a->deliver();
      const auto t0 = Steady::now();
      moved = b->deliver() || moved;
      server += Steady::now() - t0;
    }
    if (!out->peer() || !in->peer()) throw std::runtime_error("tls bench: a handshake failed");
    ++r.handshakes;
    out->close();
    in->close();
    a->finish();
    b->finish();
  }
  r.seconds = std::chrono::duration<double>(Steady::now() - start).count();
  r.server_seconds = std::chrono::duration<double>(server).count();
  if (r.seconds > 0) r.per_second = static_cast<double>(r.handshakes) / r.seconds;
  if (r.server_seconds > 0) r.server_per_second = static_cast<double>(r.handshakes) / r.server_seconds;
  return r;
}

}  // namespace veil::bench
