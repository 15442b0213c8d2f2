// Byte buffers and views, hex, constant-time compare and wiping.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace veil {

using Bytes = std::vector<uint8_t>;
using ByteView = std::span<const uint8_t>;

inline ByteView as_bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

inline void append(Bytes& out, ByteView in) { out.insert(out.end(), in.begin(), in.end()); }

// Lower-case hex of `in`.
std::string to_hex(ByteView in);
// Parses hex (either case, even length); nullopt on any other character.
std::optional<Bytes> from_hex(std::string_view hex);

// Constant-time equality of two equal-length buffers; false if lengths differ (length is public).
bool ct_equal(ByteView a, ByteView b) noexcept;

// Overwrites `buf` with zeros in a way the compiler cannot elide.
void wipe(std::span<uint8_t> buf) noexcept;

// A fixed-size secret on the stack that is wiped when it goes out of scope.
template <std::size_t N>
struct Wiped {
  std::array<uint8_t, N> bytes{};
  Wiped() = default;
  Wiped(const Wiped&) = delete;
  Wiped& operator=(const Wiped&) = delete;
  ~Wiped() { wipe(bytes); }
  uint8_t* data() { return bytes.data(); }
  const uint8_t* data() const { return bytes.data(); }
  static constexpr std::size_t size() { return N; }
  operator ByteView() const { return {bytes.data(), N}; }  // NOLINT
  operator std::span<uint8_t>() { return {bytes.data(), N}; }  // NOLINT
  operator std::span<uint8_t, N>() { return std::span<uint8_t, N>(bytes); }  // NOLINT
};

}  // namespace veil
