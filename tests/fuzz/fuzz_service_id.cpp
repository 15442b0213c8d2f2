// Fuzzes ServiceId::parse on text and ServiceId::from_fixed_width on bytes, with round trips.
#include <string_view>

#include "crypto/service_id.h"
#include "fuzz_world.h"

using namespace veil;
using namespace veil::crypto;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto id = ServiceId::parse(text)) {
    auto again = ServiceId::parse(id->to_string());
    fuzz::check(again.ok() && *again == *id);
    fuzz::check(id->to_string().size() == size);
  }
  if (auto id = ServiceId::from_fixed_width(ByteView(data, size))) {
    const auto fixed = id->fixed_width();
    fuzz::check(size == 17 && std::equal(fixed.begin(), fixed.end(), data));
  }
  if (auto uuid = parse_uuid(text)) {
    auto again = parse_uuid(format_uuid(*uuid));
    fuzz::check(again.ok() && *again == *uuid);
  }
  return 0;
}
