// Signal clients' content padding: append 0x80 then zeros to one byte short of a block multiple.
#pragma once

#include "base/bytes.h"
#include "base/error.h"

namespace veil::crypto {

inline constexpr std::size_t kContentPaddingBlock = 80;

// Pads n bytes to ceil((n+2)/block)*block - 1 bytes. block must be > 1.
Bytes pad_content(ByteView content, std::size_t block = kContentPaddingBlock);
// Strips trailing zeros and the 0x80 marker; `malformed` if no marker precedes the zeros.
Result<ByteView> unpad_content(ByteView padded);

}  // namespace veil::crypto
