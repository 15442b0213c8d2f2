// Parsing and formatting of UUIDs and service ids.
#include "crypto/service_id.h"

#include <cstring>

namespace veil::crypto {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

Result<Uuid> parse_uuid(std::string_view text) {
  if (text.size() != 36) return Error::invalid_service_id;
  Uuid out{};
  std::size_t j = 0;
  for (std::size_t i = 0; i < 36;) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (text[i] != '-') return Error::invalid_service_id;
      ++i;
      continue;
    }
    const int hi = hex_value(text[i]);
    const int lo = hex_value(text[i + 1]);
    if (hi < 0 || lo < 0) return Error::invalid_service_id;
    out[j++] = static_cast<uint8_t>(hi << 4 | lo);
    i += 2;
  }
  return out;
}

std::string format_uuid(const Uuid& uuid) {
  const std::string hex = to_hex(uuid);
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20, 12);
}

Result<ServiceId> ServiceId::parse(std::string_view text) {
  ServiceId id;
  if (text.starts_with("PNI:")) {
    id.kind = Kind::pni;
    text.remove_prefix(4);
  }
  auto uuid = parse_uuid(text);
  if (!uuid) return uuid.error();
  id.uuid = *uuid;
  return id;
}

Result<ServiceId> ServiceId::from_fixed_width(ByteView b17) {
  if (b17.size() != 17 || b17[0] > 1) return Error::invalid_service_id;
  ServiceId id;
  id.kind = static_cast<Kind>(b17[0]);
  std::memcpy(id.uuid.data(), b17.data() + 1, 16);
  return id;
}

std::string ServiceId::to_string() const {
  return (kind == Kind::pni ? "PNI:" : "") + format_uuid(uuid);
}

std::array<uint8_t, 17> ServiceId::fixed_width() const {
  std::array<uint8_t, 17> out{};
  out[0] = static_cast<uint8_t>(kind);
  std::memcpy(out.data() + 1, uuid.data(), 16);
  return out;
}

}  // namespace veil::crypto
