// Fuzzes the relay's untrusted-input parsers with the relay's own functions: the frame decoder
// (fed in fuzzer-chosen chunks), then each frame as a submission (parse_submission, which the
// submit stage runs), as a delivered bundle (open_bundle, which the deliver stage runs) and as a
// DeliveryAck.
#include <algorithm>
#include <set>

#include "crypto/service_id.h"
#include "fuzz_world.h"
#include "proxy/relay/core/bundle.h"
#include "proxy/relay/core/framing.h"
#include "proxy/relay/core/submission.h"
#include "relay.pb.h"

using namespace veil;

namespace {

struct Directory {
  std::vector<relay::PeerConfig> peers;
  std::map<std::string, relay::RecipientAccess> recipients;
  Directory() {
    relay::PeerConfig mix;
    mix.name = "mix-1";
    relay::PeerConfig beta;
    beta.name = "relay-beta";
    beta.providers = {"beta.example"};
    peers = {mix, beta};
    relay::RecipientAccess restricted;
    restricted.access_key.fill(0x11);
    recipients["9d0652a3-dcc3-4d11-975f-74d61598733f"] = restricted;
    relay::RecipientAccess open;
    open.unrestricted = true;
    recipients["PNI:9d0652a3-dcc3-4d11-975f-74d61598733f"] = open;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const Directory dir;
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
      fuzz::check(body.size() <= max_frame);  // zero-length frames are frames (empty messages)
      const relay::ParsedSubmission sub = relay::parse_submission(body, dir.peers);
      if (sub.error == Error::ok) {
        fuzz::check(sub.destination < dir.peers.size());
        // What travels names recipients in canonical form, each device at most once.
        veil::relay::Payload payload;
        fuzz::check(payload.ParseFromString(sub.payload));
        for (const auto& r : payload.bundle().recipients()) {
          auto sid = crypto::ServiceId::parse(r.service_id());
          fuzz::check(sid.ok() && sid->to_string() == r.service_id());
          std::set<uint32_t> seen(r.devices().begin(), r.devices().end());
          fuzz::check(seen.size() == static_cast<std::size_t>(r.devices_size()));
        }
        fuzz::check(!sub.payload.empty());
        // What the destination's relay would open: the rebuilt bundle itself.
        auto opened = relay::open_bundle(as_bytes(sub.payload), dir.recipients, 3600000);
        if (opened) fuzz::check(!opened->empty());
      }
      auto deliveries = relay::open_bundle(body, dir.recipients, 3600000);
      if (deliveries) {
        for (const auto& d : *deliveries) fuzz::check(dir.recipients.count(d.recipient().service_id()) == 1);
      }
      veil::relay::DeliveryAck ack;
      (void)ack.ParseFromArray(body.data(), static_cast<int>(body.size()));
    }
  }
  return 0;
}
