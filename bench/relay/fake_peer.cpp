// Packet sink for throughput runs.
#include "bench/relay/fake_peer.h"

#include <sys/socket.h>

#include <mutex>

namespace veil::bench {

PacketSink::PacketSink(std::size_t packet_size) : packet_size_(packet_size) {
  loop_.start([this](sim::Socket s) {
    auto sock = std::make_shared<sim::Socket>(std::move(s));
    loop_.spawn({sock}, [this, sock] { serve(*sock); });
  });
}

PacketSink::~PacketSink() { loop_.stop(); }

std::vector<int64_t> PacketSink::arrivals() const {
  std::lock_guard<std::mutex> lock(mu_);
  return arrivals_;
}

void PacketSink::use_tls(std::shared_ptr<LinkTls> tls) {
  std::lock_guard<std::mutex> lock(mu_);
  tls_ = std::move(tls);
}

relay::LinkSecurityStats PacketSink::tls_stats() {
  std::shared_ptr<LinkTls> tls;
  {
    std::lock_guard<std::mutex> lock(mu_);
    tls = tls_;
  }
  return tls ? tls->stats() : relay::LinkSecurityStats{};
}

void PacketSink::serve(sim::Socket& socket) {
  std::shared_ptr<LinkTls> tls;
  {
    std::lock_guard<std::mutex> lock(mu_);
    tls = tls_;
  }
  std::unique_ptr<LinkChannel> link = tls ? std::make_unique<LinkChannel>(socket, tls, "")
                                          : std::make_unique<LinkChannel>(socket);
  LinkChannel& s = *link;
  // Frames: u32 length || body; packet bodies are 0x02 || u64 seq || packet.
  std::vector<uint8_t> buf(1 << 20);
  std::size_t have = 0;
  for (;;) {
    const long n = s.recv_some(buf.data() + have, buf.size() - have);
    if (n <= 0) return;
    have += static_cast<std::size_t>(n);
    const int64_t now = steady_ns();
    std::size_t pos = 0;
    uint64_t last_seq = 0;
    bool any = false;
    while (have - pos >= 4) {
      const std::size_t len = static_cast<std::size_t>(buf[pos]) << 24 | static_cast<std::size_t>(buf[pos + 1]) << 16 |
                              static_cast<std::size_t>(buf[pos + 2]) << 8 | buf[pos + 3];
      if (have - pos < 4 + len) break;
      const uint8_t* body = buf.data() + pos + 4;
      if (len > 0 && body[0] == 2) {
        if (len != 9 + packet_size_) ++bad_size_;
        uint64_t seq = 0;
        for (int i = 1; i <= 8; ++i) seq = seq << 8 | body[i];
        last_seq = seq;
        any = true;
        ++packets_;
        if (record_) {
          std::lock_guard<std::mutex> lock(mu_);
          arrivals_.push_back(now);
        }
      }
      pos += 4 + len;
    }
    std::copy(buf.begin() + static_cast<std::ptrdiff_t>(pos), buf.begin() + static_cast<std::ptrdiff_t>(have), buf.begin());
    have -= pos;
    if (any) {
      uint8_t ack[4 + 9] = {0, 0, 0, 9, 3};
      for (int i = 0; i < 8; ++i) ack[5 + i] = static_cast<uint8_t>(last_seq >> (8 * (7 - i)));
      if (!s.send_all(ByteView(ack, sizeof ack))) return;
    }
  }
}

}  // namespace veil::bench
