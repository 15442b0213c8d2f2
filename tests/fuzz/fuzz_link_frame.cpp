// Fuzzes a peer link's receive side as the relay runs it: bytes in fuzzer-chosen chunks through
// NullSecurity's inbound handshake (a leading hello names the peer), the frame decoder, and the
// link-frame codec; decoded frames must re-encode to the same bytes.
#include <algorithm>

#include "fuzz_world.h"
#include "proxy/relay/core/framed_stream.h"
#include "proxy/relay/core/link_frame.h"
#include "proxy/relay/core/link_security.h"
#include "proxy/sim/fed_stream.h"

using namespace veil;

namespace {

void check_round_trip(const Bytes& body, std::size_t packet_size) {
  auto f = relay::decode_link_frame(body, packet_size);
  if (!f) return;
  switch (f->type) {
    case relay::LinkFrameType::hello:
      fuzz::check(relay::encode_hello(f->name) == body);
      break;
    case relay::LinkFrameType::packet: {
      fuzz::check(f->packet.size() == packet_size);
      const auto head = relay::encode_packet_header(f->seq);
      fuzz::check(std::equal(head.begin(), head.end(), body.begin()));
      break;
    }
    case relay::LinkFrameType::ack: {
      const auto ack = relay::encode_ack(f->seq);
      fuzz::check(Bytes(ack.begin(), ack.end()) == body);
      break;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const std::size_t packet_size = 8 + data[0] % 64;
  relay::NullSecurity security("fuzz-relay");
  auto raw = std::make_shared<sim::FedStream>();
  auto secure = security.inbound(raw);
  auto framed = relay::FramedStream::create(secure, packet_size + 64);  // the relay's limit
  std::size_t frames = 0;
  framed->start(
      [&](relay::FramedStream&, Bytes body) {
        ++frames;
        check_round_trip(body, packet_size);  // an empty body is a frame, and no link frame
      },
      nullptr, nullptr);
  std::size_t pos = 1;
  while (pos < size && !raw->closed()) {
    const std::size_t chunk = std::min<std::size_t>(size - pos, 1 + data[pos] % 53);
    raw->feed(ByteView(data + pos, chunk));
    pos += chunk;
  }
  raw->end();
  if (auto who = secure->peer()) {
    fuzz::check(!who->name.empty() && who->name.size() <= relay::kMaxHelloName);
    fuzz::check(!who->authenticated);
  }
  raw->close();
  return 0;
}
