// Fuzzes descriptor parsing and verification (verify_descriptor); an accepted descriptor must
// pass check_descriptor and answer epoch_key for exactly the epochs it carries.
#include <string_view>

#include "fuzz_world.h"
#include "proxy/relay/core/descriptor.h"

using namespace veil;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::string detail;
  auto d = relay::verify_descriptor(text, &detail);
  if (!d) {
    fuzz::check(!detail.empty());
    return 0;
  }
  fuzz::check(relay::check_descriptor(*d) == Error::ok);
  fuzz::check(!d->epoch_keys.empty() && d->epoch_keys.size() <= relay::kMaxDescriptorEpochs);
  const uint64_t first = d->epoch_keys.front().epoch;
  const uint64_t last = d->epoch_keys.back().epoch;
  fuzz::check(last - first + 1 == d->epoch_keys.size());
  fuzz::check(d->epoch_key(first) != nullptr && d->epoch_key(last) != nullptr);
  fuzz::check(first == 0 || d->epoch_key(first - 1) == nullptr);
  fuzz::check(last == UINT64_MAX || d->epoch_key(last + 1) == nullptr);
  fuzz::check(relay::verify_descriptor(text, d->identity_key).ok());
  return 0;
}
