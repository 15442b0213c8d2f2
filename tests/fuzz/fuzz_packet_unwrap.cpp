// Fuzzes unwrap_onion and unwrap_pairwise with fixed keys; a success must have a consistent shape.
#include "crypto/packet_layer.h"
#include "fuzz_world.h"

using namespace veil;
using namespace veil::crypto;

namespace {

// The hop key is the world's recipient; K is sender -> recipient in epoch 1 (as in make_seeds).
const PairwiseKey& pairwise_key() {
  static const PairwiseKey k =
      *derive_pairwise_key(fuzz::world().sender, fuzz::world().recipient.pub, true, 1);
  return k;
}

void check_shape(const Result<Unwrapped>& r, std::size_t size) {
  if (!r) {
    const Error e = r.error();
    fuzz::check(e == Error::decryption_failed || e == Error::malformed);
    fuzz::check(e == Error::decryption_failed || (size >= kMinPacketSize && size <= kMaxPacketSize));
    return;
  }
  fuzz::check(size >= kMinPacketSize && size <= kMaxPacketSize);
  if (r->command == HopCommand::forward) {
    fuzz::check(r->inner.size() == size);
  } else {
    fuzz::check(r->command == HopCommand::deliver || r->command == HopCommand::drop ||
                r->command == HopCommand::loop);
    fuzz::check(r->inner.size() <= size - kLayerOverhead - 4);
    fuzz::check(r->next_hop == RelayId{});
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const ByteView in(data, size);
  const auto onion = unwrap_onion(in, fuzz::world().recipient);
  check_shape(onion, size);
  const auto pairwise = unwrap_pairwise(in, pairwise_key());
  check_shape(pairwise, size);
  // Deterministic: the same input gives the same replay tag.
  if (onion) fuzz::check(unwrap_onion(in, fuzz::world().recipient)->replay_tag == onion->replay_tag);
  return 0;
}
