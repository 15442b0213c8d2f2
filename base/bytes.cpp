// Hex encoding and constant-time helpers over libsodium.
#include "base/bytes.h"

#include <sodium.h>

namespace veil {

std::string to_hex(ByteView in) {
  std::string out(in.size() * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), in.data(), in.size());
  out.pop_back();
  return out;
}

std::optional<Bytes> from_hex(std::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  if (hex.empty()) return Bytes{};
  Bytes out(hex.size() / 2);
  size_t len = 0;
  const char* end = nullptr;
  if (sodium_hex2bin(out.data(), out.size(), hex.data(), hex.size(), nullptr, &len, &end) != 0 ||
      len != out.size() || end != hex.data() + hex.size()) {
    return std::nullopt;
  }
  return out;
}

bool ct_equal(ByteView a, ByteView b) noexcept {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

void wipe(std::span<uint8_t> buf) noexcept {
  if (!buf.empty()) sodium_memzero(buf.data(), buf.size());
}

}  // namespace veil
