// The peer-link frame codec (known bytes, round trips, every malformed shape) and the null
// security layer's hello handshake on the receiving side.
#include <boost/test/unit_test.hpp>

#include "proxy/relay/core/framed_stream.h"
#include "proxy/relay/core/framing.h"
#include "proxy/relay/core/link_frame.h"
#include "proxy/relay/core/link_security.h"
#include "proxy/sim/fed_stream.h"

namespace veil::relay {
namespace {

// Frames a receiving link passes up, fed `bytes` in chunks of `chunk`.
struct Received {
  std::vector<Bytes> frames;
  std::optional<PeerIdentity> peer;
  std::size_t errors = 0;
};
Received receive(ByteView bytes, std::size_t chunk) {
  NullSecurity security("relay-beta");
  auto raw = std::make_shared<sim::FedStream>();
  auto secure = security.inbound(raw);
  auto framed = FramedStream::create(secure, 64 + 16);
  Received r;
  framed->start([&](FramedStream&, Bytes f) { r.frames.push_back(std::move(f)); },
                [&](FramedStream&, Error) { ++r.errors; }, nullptr);
  for (std::size_t at = 0; at < bytes.size() && !raw->closed(); at += chunk) {
    raw->feed(bytes.subspan(at, std::min(chunk, bytes.size() - at)));
  }
  r.peer = secure->peer();
  raw->close();
  return r;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(link_frame)

BOOST_AUTO_TEST_CASE(encodings_have_the_documented_bytes) {
  const Bytes hello = encode_hello("mix-1");
  BOOST_TEST((hello == Bytes{0x01, 'm', 'i', 'x', '-', '1'}));
  const auto head = encode_packet_header(0x0102030405060708ULL);
  BOOST_TEST((Bytes(head.begin(), head.end()) == Bytes{0x02, 1, 2, 3, 4, 5, 6, 7, 8}));
  const auto ack = encode_ack(9);
  BOOST_TEST((Bytes(ack.begin(), ack.end()) == Bytes{0x03, 0, 0, 0, 0, 0, 0, 0, 9}));
}

BOOST_AUTO_TEST_CASE(well_formed_frames_decode_to_what_was_encoded) {
  auto h = decode_link_frame(encode_hello("relay-alpha"), 16);
  BOOST_REQUIRE(h.ok());
  BOOST_TEST((h->type == LinkFrameType::hello));
  BOOST_TEST(h->name == "relay-alpha");
  const auto head = encode_packet_header(42);
  Bytes packet(head.begin(), head.end());
  packet.resize(kLinkHeaderSize + 16, 0xab);
  auto p = decode_link_frame(packet, 16);
  BOOST_REQUIRE(p.ok());
  BOOST_TEST(p->seq == 42u);
  BOOST_TEST(p->packet.size() == 16u);
  BOOST_TEST(p->packet[0] == 0xab);
  auto a = decode_link_frame(encode_ack(7), 16);
  BOOST_REQUIRE(a.ok());
  BOOST_TEST((a->type == LinkFrameType::ack));
  BOOST_TEST(a->seq == 7u);
}

BOOST_AUTO_TEST_CASE(every_malformed_shape_is_rejected_as_malformed) {
  const std::vector<Bytes> bad = {
      {},                                  // empty
      {0x00},                              // unknown type
      {0x04, 0, 0, 0, 0, 0, 0, 0, 1},      // unknown type, ack-sized
      {0x01},                              // hello without a name
      {0x02, 0, 0, 0, 0, 0, 0, 0, 1},      // packet without a packet
      {0x03, 0, 0, 0, 0, 0, 0, 1},         // ack one byte short
      {0x03, 0, 0, 0, 0, 0, 0, 0, 1, 0},   // ack one byte long
  };
  for (const Bytes& b : bad) {
    auto f = decode_link_frame(b, 16);
    BOOST_TEST(!f.ok());
    BOOST_TEST((f.error() == Error::malformed));
  }
  Bytes long_name(1 + kMaxHelloName + 1, 'x');
  long_name[0] = 0x01;
  BOOST_TEST(!decode_link_frame(long_name, 16).ok());
  Bytes short_packet(kLinkHeaderSize + 15, 0);
  short_packet[0] = 0x02;
  BOOST_TEST(!decode_link_frame(short_packet, 16).ok());
  Bytes long_packet(kLinkHeaderSize + 17, 0);
  long_packet[0] = 0x02;
  BOOST_TEST(!decode_link_frame(long_packet, 16).ok());
}

BOOST_AUTO_TEST_CASE(a_leading_hello_names_the_peer_and_is_not_passed_up_in_any_split) {
  Bytes wire = frame(encode_hello("relay-alpha"));
  append(wire, frame(encode_ack(1)));
  for (std::size_t chunk : {1u, 2u, 5u, 7u, 64u}) {
    const Received r = receive(wire, chunk);
    BOOST_REQUIRE(r.peer.has_value());
    BOOST_TEST(r.peer->name == "relay-alpha");
    BOOST_TEST(!r.peer->authenticated);
    BOOST_REQUIRE(r.frames.size() == 1u);  // the ack only
    BOOST_TEST(r.frames[0][0] == 0x03);
  }
}

BOOST_AUTO_TEST_CASE(a_link_that_does_not_start_with_a_hello_has_no_identity_and_loses_no_bytes) {
  Bytes wire = frame(encode_ack(1));
  append(wire, frame(encode_hello("late")));
  const Received r = receive(wire, 3);
  BOOST_TEST(!r.peer.has_value());
  BOOST_TEST(r.frames.size() == 2u);  // both passed up; the relay ignores the late hello
}

BOOST_AUTO_TEST_CASE(a_zero_length_first_frame_is_a_frame_without_identity) {
  // Framing takes it (a zero-length frame is a frame on every interface); it is no hello, so the
  // link has no identity, and the relay counts it as a malformed link frame (no type byte).
  const uint8_t zero[] = {0, 0, 0, 0};
  const Received r = receive(zero, 4);
  BOOST_TEST(r.errors == 0u);
  BOOST_TEST(!r.peer.has_value());
  BOOST_REQUIRE(r.frames.size() == 1u);
  BOOST_TEST(r.frames[0].empty());
  BOOST_TEST(!decode_link_frame(r.frames[0], 4096).ok());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace veil::relay
