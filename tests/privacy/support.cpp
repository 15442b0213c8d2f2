// Privacy-suite harness: reports, peeling, submissions and peer-link frames.
#include "support.h"

#include <cstdarg>
#include <cstdio>
#include <stdexcept>

#include "proxy/relay/core/config.h"

namespace veil::privacy {

double secs(Clock::time_point t0, Clock::time_point t) {
  return std::chrono::duration<double>(t - t0).count();
}

void report(const char* fmt, ...) {
  std::va_list ap;
  va_start(ap, fmt);
  std::fputs("[privacy] ", stdout);
  std::vfprintf(stdout, fmt, ap);
  std::fputc('\n', stdout);
  std::fflush(stdout);
  va_end(ap);
}

Bytes packet_frame(uint64_t seq, ByteView packet) {
  Bytes b{kFramePacket};
  for (int i = 7; i >= 0; --i) b.push_back(static_cast<uint8_t>(seq >> (8 * i)));
  append(b, packet);
  return b;
}

Peeled peel(const Deployment& d, ByteView packet, const std::string& from, const std::string& to) {
  Peeled out;
  const sim::RelayNode& first = d.node(to);
  Result<crypto::Unwrapped> layer = Error::decryption_failed;
  auto k = crypto::derive_pairwise_key(*first.epoch_key, d.node(from).epoch_key->pub, false, 0);
  if (k) layer = crypto::unwrap_pairwise(packet, *k);
  if (!layer) layer = crypto::unwrap_onion(packet, *first.epoch_key);
  if (!layer) return out;
  out.hops.push_back(first.name);
  while (layer->command == crypto::HopCommand::forward) {
    const sim::RelayNode* next = nullptr;
    for (const auto& name : d.names()) {
      if (veil::relay::relay_id(name) == layer->next_hop) next = &d.node(name);
    }
    if (next == nullptr) return out;
    Bytes inner = std::move(layer->inner);
    layer = crypto::unwrap_onion(inner, *next->epoch_key);
    if (!layer) return out;
    out.hops.push_back(next->name);
  }
  out.ok = true;
  out.command = layer->command;
  out.payload = std::move(layer->inner);
  if (out.command == crypto::HopCommand::deliver) {
    veil::relay::Payload p;
    if (p.ParseFromArray(out.payload.data(), static_cast<int>(out.payload.size())) &&
        p.has_bundle()) {
      out.envelope = p.bundle().envelope();
    }
  }
  return out;
}

Submitter::Submitter(uint16_t port) : sock_(sim::Socket::connect_tcp(port)) {
  sock_.set_recv_timeout(Millis(10'000));
}

veil::relay::SubmitAnswer Submitter::submit(const veil::relay::Submission& s) {
  const std::string body = s.SerializeAsString();
  if (!sock_.send_frame(as_bytes(body))) throw std::runtime_error("submit: send failed");
  auto frame = sock_.recv_frame();
  if (!frame) throw std::runtime_error("submit: no answer");
  veil::relay::SubmitAnswer a;
  if (!a.ParseFromArray(frame->data(), static_cast<int>(frame->size()))) {
    throw std::runtime_error("submit: unparsable answer");
  }
  return a;
}

}  // namespace veil::privacy
