// UTF-8 validation by the well-formed byte sequences of Unicode table 3-7.
#include "base/utf8.h"

#include <cstdint>

namespace veil {

bool is_valid_utf8(std::string_view s) noexcept {
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  const std::size_t n = s.size();
  std::size_t i = 0;
  const auto in = [&](std::size_t at, uint8_t lo, uint8_t hi) { return at < n && p[at] >= lo && p[at] <= hi; };
  while (i < n) {
    const uint8_t b = p[i];
    if (b <= 0x7F) {
      i += 1;
    } else if (b >= 0xC2 && b <= 0xDF) {
      if (!in(i + 1, 0x80, 0xBF)) return false;
      i += 2;
    } else if (b == 0xE0) {  // no overlong three-byte forms
      if (!in(i + 1, 0xA0, 0xBF) || !in(i + 2, 0x80, 0xBF)) return false;
      i += 3;
    } else if ((b >= 0xE1 && b <= 0xEC) || b == 0xEE || b == 0xEF) {
      if (!in(i + 1, 0x80, 0xBF) || !in(i + 2, 0x80, 0xBF)) return false;
      i += 3;
    } else if (b == 0xED) {  // no surrogates
      if (!in(i + 1, 0x80, 0x9F) || !in(i + 2, 0x80, 0xBF)) return false;
      i += 3;
    } else if (b == 0xF0) {  // no overlong four-byte forms
      if (!in(i + 1, 0x90, 0xBF) || !in(i + 2, 0x80, 0xBF) || !in(i + 3, 0x80, 0xBF)) return false;
      i += 4;
    } else if (b >= 0xF1 && b <= 0xF3) {
      if (!in(i + 1, 0x80, 0xBF) || !in(i + 2, 0x80, 0xBF) || !in(i + 3, 0x80, 0xBF)) return false;
      i += 4;
    } else if (b == 0xF4) {  // nothing above U+10FFFF
      if (!in(i + 1, 0x80, 0x8F) || !in(i + 2, 0x80, 0xBF) || !in(i + 3, 0x80, 0xBF)) return false;
      i += 4;
    } else {
      return false;  // 0x80..0xC1 (continuation or overlong lead), 0xF5..0xFF
    }
  }
  return true;
}

}  // namespace veil
