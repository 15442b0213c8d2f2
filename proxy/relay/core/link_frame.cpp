// The peer-link frame codec.
#include "proxy/relay/core/link_frame.h"

#include "base/check.h"

namespace veil::relay {

Bytes encode_hello(const std::string& name) {
  VEIL_CHECK(!name.empty() && name.size() <= kMaxHelloName, "hello name must be 1..255 bytes");
  Bytes out;
  out.reserve(1 + name.size());
  out.push_back(static_cast<uint8_t>(LinkFrameType::hello));
  append(out, as_bytes(name));
  return out;
}

std::array<uint8_t, kLinkHeaderSize> encode_packet_header(uint64_t seq) {
  std::array<uint8_t, kLinkHeaderSize> h{};
  h[0] = static_cast<uint8_t>(LinkFrameType::packet);
  put_u64(h.data() + 1, seq);
  return h;
}

std::array<uint8_t, kAckFrameSize> encode_ack(uint64_t upto) {
  std::array<uint8_t, kAckFrameSize> a{};
  a[0] = static_cast<uint8_t>(LinkFrameType::ack);
  put_u64(a.data() + 1, upto);
  return a;
}

Result<LinkFrame> decode_link_frame(ByteView body, std::size_t packet_size) {
  if (body.empty()) return Error::malformed;
  LinkFrame f;
  switch (body[0]) {
    case static_cast<uint8_t>(LinkFrameType::hello):
      if (body.size() < 2 || body.size() > 1 + kMaxHelloName) return Error::malformed;
      f.type = LinkFrameType::hello;
      f.name.assign(body.begin() + 1, body.end());
      return f;
    case static_cast<uint8_t>(LinkFrameType::packet):
      if (body.size() != kLinkHeaderSize + packet_size) return Error::malformed;
      f.type = LinkFrameType::packet;
      f.seq = get_u64(body.data() + 1);
      f.packet = body.subspan(kLinkHeaderSize);
      return f;
    case static_cast<uint8_t>(LinkFrameType::ack):
      if (body.size() != kAckFrameSize) return Error::malformed;
      f.type = LinkFrameType::ack;
      f.seq = get_u64(body.data() + 1);
      return f;
    default:
      return Error::malformed;
  }
}

}  // namespace veil::relay
