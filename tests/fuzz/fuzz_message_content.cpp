// Fuzzes MessageContent::parse; whatever parses must re-serialize and parse to the same fields.
#include "crypto/message_content.h"
#include "fuzz_world.h"

using namespace veil;
using namespace veil::crypto;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto c = MessageContent::parse(ByteView(data, size));
  if (!c) return 0;
  const Bytes group = c->group_id.value_or(Bytes{});
  const Bytes again =
      MessageContent::serialize(c->type, c->sender.serialized, c->content, c->content_hint, group);
  auto d = MessageContent::parse(again);
  fuzz::check(d.ok());
  fuzz::check(d->type == c->type && d->content == c->content &&
              d->content_hint == c->content_hint && d->group_id == c->group_id &&
              d->sender.serialized == c->sender.serialized);
  return 0;
}
