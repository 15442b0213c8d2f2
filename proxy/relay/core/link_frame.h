// Peer-link frames: hello, packet with a link sequence number, cumulative ack (docs/link-protocol.md).
//
// A link frame is the body of one length-prefixed frame (core/framing.h) on a peer link, after the
// link's security layer. Byte layout (integers big-endian):
//   hello   0x01 ‖ name (1..kMaxHelloName bytes)           sender's directory name (null security)
//   packet  0x02 ‖ u64 sequence number ‖ packet (packet_size bytes)
//   ack     0x03 ‖ u64 highest sequence number processed    cumulative
// No I/O: the codec is pure and fuzzed (tests/fuzz/fuzz_link_frame.cpp).
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "base/bytes.h"
#include "base/error.h"

namespace veil::relay {

enum class LinkFrameType : uint8_t { hello = 1, packet = 2, ack = 3 };

// Type byte and sequence number in front of a packet, and the whole of an ack frame.
inline constexpr std::size_t kLinkHeaderSize = 9;
inline constexpr std::size_t kAckFrameSize = kLinkHeaderSize;
// Longest relay name a hello may carry.
inline constexpr std::size_t kMaxHelloName = 255;

struct LinkFrame {
  LinkFrameType type = LinkFrameType::packet;
  uint64_t seq = 0;   // packet: its sequence number; ack: the highest processed
  std::string name;   // hello only
  ByteView packet;    // packet only: a view into the decoded frame body
};

// 0x01 ‖ name. `name` must be 1..kMaxHelloName bytes (checked: misuse aborts).
Bytes encode_hello(const std::string& name);
// 0x02 ‖ u64 seq: the 9 bytes sent in front of a packet (the packet follows in the same frame).
std::array<uint8_t, kLinkHeaderSize> encode_packet_header(uint64_t seq);
// 0x03 ‖ u64 upto.
std::array<uint8_t, kAckFrameSize> encode_ack(uint64_t upto);

// Decodes one frame body. A packet frame must carry exactly `packet_size` bytes of packet.
// Errors: malformed (empty body, unknown type, wrong length for the type, empty or over-long hello
// name). The returned `packet` views `body`.
Result<LinkFrame> decode_link_frame(ByteView body, std::size_t packet_size);

// Big-endian u64 helpers shared by the link codec.
inline void put_u64(uint8_t* out, uint64_t v) {
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<uint8_t>(v);
    v >>= 8;
  }
}
inline uint64_t get_u64(const uint8_t* in) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = v << 8 | in[i];
  return v;
}

}  // namespace veil::relay
