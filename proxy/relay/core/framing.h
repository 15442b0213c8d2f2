// Length-prefixed frames (u32 big-endian length, then the body) over a byte stream.
#pragma once

#include <cstdint>
#include <optional>

#include "base/bytes.h"
#include "base/error.h"

namespace veil::relay {

inline constexpr std::size_t kFrameHeaderSize = 4;

// Incremental decoder of untrusted bytes. Never allocates more than max_frame + 4 per frame. A
// zero-length frame is a frame (an empty protobuf message is a valid one): the interface judges
// its body.
class FrameDecoder {
 public:
  explicit FrameDecoder(std::size_t max_frame) : max_frame_(max_frame) {}

  // Appends received bytes.
  void feed(ByteView bytes);
  // The next complete frame body (possibly empty), nullopt if more bytes are needed. After
  // `too_large` (a length above max_frame) the stream is unusable: close the connection.
  Result<std::optional<Bytes>> next();
  std::size_t buffered() const { return buf_.size() - pos_; }

 private:
  std::size_t max_frame_;
  Bytes buf_;
  std::size_t pos_ = 0;
  bool failed_ = false;
};

// 4-byte big-endian length header for a body of `size` bytes.
std::array<uint8_t, kFrameHeaderSize> frame_header(std::size_t size);
// header || body in one buffer.
Bytes frame(ByteView body);

}  // namespace veil::relay
