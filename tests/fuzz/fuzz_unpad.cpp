// Fuzzes unpad_content; what unpads must pad back to the input when the input is canonical.
#include "crypto/content_padding.h"
#include "fuzz_world.h"

using namespace veil;
using namespace veil::crypto;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const ByteView in(data, size);
  auto content = unpad_content(in);
  if (!content) return 0;
  fuzz::check(content->size() < size && in[content->size()] == 0x80);
  fuzz::check(content->data() == data);
  auto again = unpad_content(pad_content(*content));
  fuzz::check(again.ok() && again->size() == content->size());
  return 0;
}
