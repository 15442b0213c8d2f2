// Link tap: frame-aware forwarding in the dialer->listener direction, raw copy back.
#include "proxy/sim/tap.h"

#include <sys/socket.h>

#include "proxy/relay/core/framing.h"

namespace veil::sim {

Tap::Tap(uint16_t target_port, bool keep_bytes, bool keep_streams, bool tls_records)
    : target_(target_port), keep_bytes_(keep_bytes), keep_streams_(keep_streams), tls_records_(tls_records) {
  loop_.start([this](Socket s) {
    std::shared_ptr<Socket> up;
    try {
      up = std::make_shared<Socket>(Socket::connect_tcp(target_));
    } catch (const std::exception&) {
      return;
    }
    auto down = std::make_shared<Socket>(std::move(s));
    {
      std::lock_guard<std::mutex> lock(mu_);
      last_upstream_ = up;
    }
    // Backward direction (acks): raw copy.
    loop_.spawn({down, up}, [this, up, down] {
      uint8_t buf[65536];
      for (;;) {
        const long n = up->recv_some(buf, sizeof buf);
        if (n <= 0) break;
        if (keep_streams_) {
          std::lock_guard<std::mutex> stream_lock(mu_);
          append(backward_stream_, ByteView(buf, static_cast<std::size_t>(n)));
        }
        if (!down->send_all(ByteView(buf, static_cast<std::size_t>(n)))) break;
      }
      ::shutdown(down->fd(), SHUT_RDWR);
    });
    loop_.spawn({}, [this, up, down] {
      if (tls_records_) {
        pump_records(*down, *up);
      } else {
        pump_forward(*down, *up);
      }
    });
  });
}

Tap::~Tap() { stop(); }

void Tap::stop() { loop_.stop(); }

void Tap::pump_forward(Socket& from, Socket& to) {
  while (auto frame = from.recv_frame()) {
    const auto now = std::chrono::steady_clock::now();
    if (keep_streams_) {
      std::lock_guard<std::mutex> lock(mu_);
      append(forward_stream_, relay::frame_header(frame->size()));
      append(forward_stream_, *frame);
    }
    if (!frame->empty() && (*frame)[0] == 2 && frame->size() > 9) {  // a packet frame
      std::function<bool(const Bytes&)> keep;
      {
        std::lock_guard<std::mutex> lock(mu_);
        keep = filter_;
        last_seq_ = 0;
        for (int i = 1; i <= 8; ++i) last_seq_ = last_seq_ << 8 | (*frame)[static_cast<std::size_t>(i)];
        if (mutator_) {
          Bytes packet(frame->begin() + 9, frame->end());
          mutator_(packet);
          std::copy(packet.begin(), packet.end(), frame->begin() + 9);
        }
        TappedPacket t{now, frame->size(), {}};
        if (keep_bytes_) t.packet.assign(frame->begin() + 9, frame->end());
        packets_.push_back(std::move(t));
      }
      if (keep && !keep(Bytes(frame->begin() + 9, frame->end()))) continue;  // dropped on the link
    }
    std::lock_guard<std::mutex> lock(mu_);
    if (!to.send_frame(*frame)) break;
  }
  ::shutdown(to.fd(), SHUT_WR);
}

void Tap::pump_records(Socket& from, Socket& to) {
  for (;;) {
    Bytes record(5);
    if (!from.recv_exact(record.data(), 5)) break;
    const std::size_t len = std::size_t{record[3]} << 8 | record[4];
    record.resize(5 + len);
    if (len > 0 && !from.recv_exact(record.data() + 5, len)) break;
    std::lock_guard<std::mutex> lock(mu_);
    if (keep_streams_) append(forward_stream_, record);
    if (mutator_) {
      Bytes payload(record.begin() + 5, record.end());
      mutator_(payload);
      std::copy(payload.begin(), payload.end(), record.begin() + 5);
    }
    TappedPacket t{std::chrono::steady_clock::now(), len, {}, record[0]};
    if (keep_bytes_) t.packet = record;
    packets_.push_back(std::move(t));
    if (!to.send_all(record)) break;
  }
  ::shutdown(to.fd(), SHUT_WR);
}

std::vector<TappedPacket> Tap::packets() const {
  std::lock_guard<std::mutex> lock(mu_);
  return packets_;
}

std::size_t Tap::packet_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return packets_.size();
}

void Tap::set_mutator(std::function<void(Bytes&)> f) {
  std::lock_guard<std::mutex> lock(mu_);
  mutator_ = std::move(f);
}

void Tap::set_filter(std::function<bool(const Bytes&)> keep) {
  std::lock_guard<std::mutex> lock(mu_);
  filter_ = std::move(keep);
}

Bytes Tap::stream_bytes(bool forward) const {
  std::lock_guard<std::mutex> lock(mu_);
  return forward ? forward_stream_ : backward_stream_;
}

bool Tap::inject(ByteView packet) {
  std::lock_guard<std::mutex> lock(mu_);
  if (last_upstream_ == nullptr) return false;
  Bytes body;
  body.push_back(2);
  // Reuse the last real sequence number: the receiver's cumulative ack then covers nothing that
  // was not really sent.
  const uint64_t seq = last_seq_;
  for (int i = 7; i >= 0; --i) body.push_back(static_cast<uint8_t>(seq >> (8 * i)));
  append(body, packet);
  return last_upstream_->send_frame(body);
}

}  // namespace veil::sim
