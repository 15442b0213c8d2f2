// UTF-8 well-formedness, as protobuf `string` fields require and libsignal enforces.
#pragma once

#include <string_view>

namespace veil {

// True if `s` is well-formed UTF-8 (RFC 3629, section 4; Unicode table 3-7): no overlong
// encodings, no UTF-16 surrogates (U+D800..U+DFFF), nothing above U+10FFFF, no truncated or
// stray continuation bytes. The empty string is well-formed.
bool is_valid_utf8(std::string_view s) noexcept;

}  // namespace veil
