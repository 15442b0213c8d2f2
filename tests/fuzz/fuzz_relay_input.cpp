// Fuzzes the relay's untrusted-input parsers: the frame decoder (fed in fuzzer-chosen chunks) and
// the protobuf messages a frame may carry (Submission, Payload, DeliveryAck), as the relay reads them.
#include "crypto/sealed_sender_v2.h"
#include "crypto/service_id.h"
#include "fuzz_world.h"
#include "proxy/relay/core/framing.h"
#include "relay.pb.h"

using namespace veil;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const std::size_t max_frame = 64 + data[0] * 16;
  relay::FrameDecoder decoder(max_frame);
  std::size_t pos = 1;
  while (pos < size) {
    const std::size_t chunk = std::min<std::size_t>(size - pos, 1 + data[pos] % 97);
    decoder.feed(ByteView(data + pos, chunk));
    pos += chunk;
    for (;;) {
      auto frame = decoder.next();
      if (!frame) {
        fuzz::check(!decoder.next().ok());  // a failed stream stays failed
        return 0;
      }
      if (!frame->has_value()) break;
      const Bytes& body = **frame;
      fuzz::check(!body.empty() && body.size() <= max_frame);
      const int n = static_cast<int>(body.size());
      veil::relay::Submission sub;
      if (sub.ParseFromArray(body.data(), n)) {
        for (const auto& r : sub.recipients()) (void)crypto::ServiceId::parse(r.service_id());
        const ByteView env = as_bytes(sub.envelope());
        if (!env.empty()) (void)crypto::SentMessage::parse(env);
      }
      veil::relay::Payload payload;
      if (payload.ParseFromArray(body.data(), n) && payload.has_bundle()) {
        (void)crypto::SentMessage::parse(as_bytes(payload.bundle().envelope()));
      }
      veil::relay::DeliveryAck ack;
      (void)ack.ParseFromArray(body.data(), n);
    }
  }
  return 0;
}
