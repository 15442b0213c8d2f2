// Frame decoding with a size bound checked before any allocation.
#include "proxy/relay/core/framing.h"

#include <array>

namespace veil::relay {

void FrameDecoder::feed(ByteView bytes) {
  if (failed_) return;
  if (pos_ > 0 && pos_ == buf_.size()) {
    buf_.clear();
    pos_ = 0;
  } else if (pos_ > 65536 && pos_ * 2 > buf_.size()) {
    buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(pos_));
    pos_ = 0;
  }
  buf_.insert(buf_.end(), bytes.begin(), bytes.end());
}

Result<std::optional<Bytes>> FrameDecoder::next() {
  if (failed_) return Error::malformed;
  if (buffered() < kFrameHeaderSize) return std::optional<Bytes>{};
  const uint8_t* h = buf_.data() + pos_;
  const std::size_t len = static_cast<std::size_t>(h[0]) << 24 | static_cast<std::size_t>(h[1]) << 16 |
                          static_cast<std::size_t>(h[2]) << 8 | h[3];
  if (len > max_frame_) {
    failed_ = true;
    return Error::too_large;
  }
  if (buffered() < kFrameHeaderSize + len) return std::optional<Bytes>{};
  const auto begin = buf_.begin() + static_cast<std::ptrdiff_t>(pos_ + kFrameHeaderSize);
  Bytes body(begin, begin + static_cast<std::ptrdiff_t>(len));
  pos_ += kFrameHeaderSize + len;
  return std::optional<Bytes>(std::move(body));
}

std::array<uint8_t, kFrameHeaderSize> frame_header(std::size_t size) {
  return {static_cast<uint8_t>(size >> 24), static_cast<uint8_t>(size >> 16),
          static_cast<uint8_t>(size >> 8), static_cast<uint8_t>(size)};
}

Bytes frame(ByteView body) {
  Bytes out;
  out.reserve(kFrameHeaderSize + body.size());
  append(out, frame_header(body.size()));
  append(out, body);
  return out;
}

}  // namespace veil::relay
