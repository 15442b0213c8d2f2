// Content padding as in Signal-Android's PushTransportDetails and Signal-Desktop's padMessage.
#include "crypto/content_padding.h"

#include "base/check.h"

namespace veil::crypto {

Bytes pad_content(ByteView content, std::size_t block) {
  VEIL_CHECK(block >= 2, "pad_content: block size must be at least 2 (misuse)");
  const std::size_t total = (content.size() + 2 + block - 1) / block * block - 1;
  Bytes out(total, 0);
  std::copy(content.begin(), content.end(), out.begin());
  out[content.size()] = 0x80;
  return out;
}

Result<ByteView> unpad_content(ByteView padded) {
  for (std::size_t i = padded.size(); i-- > 0;) {
    if (padded[i] == 0x80) return padded.first(i);
    if (padded[i] != 0) return Error::malformed;
  }
  return Error::malformed;
}

}  // namespace veil::crypto
