// UUIDs and Signal service ids (ACI "uuid", PNI "PNI:uuid") in text and fixed-width binary form.
#pragma once

#include <array>
#include <compare>
#include <string>
#include <string_view>

#include "base/bytes.h"
#include "base/error.h"

namespace veil::crypto {

using Uuid = std::array<uint8_t, 16>;

// Accepts the hyphenated 8-4-4-4-12 form, either case.
Result<Uuid> parse_uuid(std::string_view text);
// Lower-case hyphenated form.
std::string format_uuid(const Uuid& uuid);

struct ServiceId {
  enum class Kind : uint8_t { aci = 0, pni = 1 };
  Kind kind = Kind::aci;
  Uuid uuid{};

  // "<uuid>" is an ACI, "PNI:<uuid>" a PNI; anything else is `invalid_service_id`.
  static Result<ServiceId> parse(std::string_view text);
  // 17 bytes: kind || uuid; kinds other than 0 and 1 are `invalid_service_id`.
  static Result<ServiceId> from_fixed_width(ByteView b17);
  std::string to_string() const;
  std::array<uint8_t, 17> fixed_width() const;
  auto operator<=>(const ServiceId&) const = default;
};

}  // namespace veil::crypto
