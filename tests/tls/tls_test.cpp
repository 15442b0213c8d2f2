// TLS 1.3 link security: handshakes both ways with the directory names of the proven keys,
// refused keys (unknown, impersonation, not Ed25519), timeouts, garbage and tampered records,
// one record size per packet frame whatever the batching, pause/resume and close_when_flushed.
#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <boost/test/unit_test.hpp>
#include <map>
#include <string>

#include "base/clock.h"
#include "bench/relay/tls_handshakes.h"
#include "crypto/identity.h"
#include "pipe.h"
#include "proxy/relay/core/framed_stream.h"
#include "proxy/relay/core/framing.h"
#include "proxy/relay/core/link_frame.h"
#include "proxy/relay/tls/tls_security.h"

namespace veil::tls_test {
namespace {

using relay::SecureStream;
using relay::TlsSecurity;

constexpr Micros kTimeout = 5'000'000;
constexpr std::size_t kPacketSize = 4096;  // the relay's default packet_size

crypto::IdentityKey key_from(uint8_t fill) {
  Bytes seed(crypto::kIdentitySeedSize, fill);
  auto k = crypto::IdentityKey::from_seed(seed);
  BOOST_REQUIRE(static_cast<bool>(k));
  return std::move(*k);
}

// Three directory relays and one outsider, each with its TlsSecurity over one shared directory.
struct World {
  ManualClock clock;
  crypto::IdentityKey alpha_key = key_from(1), beta_key = key_from(2), gamma_key = key_from(3),
                      mallory_key = key_from(4);
  std::map<std::string, crypto::IdentityPublicKey> directory{
      {"relay-alpha", alpha_key.public_key()},
      {"relay-beta", beta_key.public_key()},
      {"relay-gamma", gamma_key.public_key()}};
  relay::TlsPeers peers() {
    return {[this](const std::string& name) -> std::optional<crypto::IdentityPublicKey> {
              auto it = directory.find(name);
              if (it == directory.end()) return std::nullopt;
              return it->second;
            },
            [this](const crypto::IdentityPublicKey& k) -> std::optional<std::string> {
              for (const auto& [name, key] : directory) {
                if (key == k) return name;
              }
              return std::nullopt;
            }};
  }
  TlsSecurity alpha{alpha_key, clock, kTimeout, peers()};
  TlsSecurity beta{beta_key, clock, kTimeout, peers()};
  TlsSecurity gamma{gamma_key, clock, kTimeout, peers()};
  TlsSecurity mallory{mallory_key, clock, kTimeout, peers()};
  Pipe pipe{clock};
};

// One secure end with everything its handlers saw.
struct End {
  explicit End(std::shared_ptr<SecureStream> stream) : s(std::move(stream)) {}
  std::shared_ptr<SecureStream> s;
  Bytes data;
  std::size_t reads = 0, ends = 0, closes = 0;
  bool data_before_peer = false;  // a read arrived while peer() was still unknown
  void start() {
    s->start({[this](ByteView b) {
                ++reads;
                if (!s->peer()) data_before_peer = true;
                append(data, b);
              },
              [this] { ++ends; }, [this] { ++closes; }});
  }
};

void write(relay::Stream& s, ByteView b) {
  const ByteView pieces[] = {b};
  s.write(pieces);
}

// The link frame of packet `seq`: u32 length ‖ 0x02 ‖ seq ‖ packet (packet_size bytes).
Bytes packet_frame(uint64_t seq, std::size_t packet_size) {
  Bytes packet(packet_size, static_cast<uint8_t>(seq * 7));
  const auto head = relay::encode_packet_header(seq);
  const auto len = relay::frame_header(head.size() + packet.size());
  Bytes out(len.begin(), len.end());
  append(out, head);
  append(out, packet);
  return out;
}

struct Record {
  uint8_t type = 0;
  std::size_t length = 0;  // of the record body (the 5-byte header not counted)
};

// The TLS records in `wire` (RFC 8446 §5.1: type, legacy version 0x0303, u16 length, body).
std::vector<Record> records_in(ByteView wire) {
  std::vector<Record> out;
  std::size_t pos = 0;
  while (pos < wire.size()) {
    BOOST_REQUIRE(wire.size() - pos >= 5);
    Record r{wire[pos], static_cast<std::size_t>(wire[pos + 3]) << 8 | wire[pos + 4]};
    BOOST_REQUIRE(wire[pos + 1] == 0x03);
    BOOST_REQUIRE(wire.size() - pos - 5 >= r.length);
    out.push_back(r);
    pos += 5 + r.length;
  }
  return out;
}

BOOST_AUTO_TEST_SUITE(tls)

BOOST_AUTO_TEST_CASE(both_ends_learn_the_directory_name_of_the_key_the_other_proved) {
  World w;
  End out{w.alpha.outbound(w.pipe.dialer, "relay-beta")};
  End in{w.beta.inbound(w.pipe.listener)};
  out.start();
  in.start();
  BOOST_TEST(!out.s->peer());
  BOOST_TEST(!in.s->peer());
  w.pipe.run();
  BOOST_REQUIRE(out.s->peer());
  BOOST_REQUIRE(in.s->peer());
  BOOST_TEST(out.s->peer()->name == "relay-beta");
  BOOST_TEST(out.s->peer()->authenticated);
  BOOST_TEST(in.s->peer()->name == "relay-alpha");
  BOOST_TEST(in.s->peer()->authenticated);
  BOOST_TEST(w.alpha.stats().handshakes_completed == 1u);
  BOOST_TEST(w.beta.stats().handshakes_completed == 1u);
  BOOST_TEST(w.clock.armed_timers() == 0u);  // the handshake deadlines are cancelled
  // No hello frame, nor anything else, was delivered on either side.
  BOOST_TEST(out.reads + in.reads == 0u);

  // The other way: relay-beta dials relay-alpha.
  Pipe back{w.clock};
  End beta_out{w.beta.outbound(back.dialer, "relay-alpha")};
  End alpha_in{w.alpha.inbound(back.listener)};
  beta_out.start();
  alpha_in.start();
  write(*beta_out.s, as_bytes("from beta"));
  back.run();
  BOOST_REQUIRE(beta_out.s->peer());
  BOOST_REQUIRE(alpha_in.s->peer());
  BOOST_TEST(beta_out.s->peer()->name == "relay-alpha");
  BOOST_TEST(alpha_in.s->peer()->name == "relay-beta");
  BOOST_TEST(alpha_in.s->peer()->authenticated);
  BOOST_TEST(std::string(alpha_in.data.begin(), alpha_in.data.end()) == "from beta");
  BOOST_TEST(!alpha_in.data_before_peer);

  // The directory decides at each handshake: gamma's key under the name relay-alpha now.
  w.directory["relay-alpha"] = w.gamma_key.public_key();
  w.directory.erase("relay-gamma");
  Pipe second{w.clock};
  End out2{w.gamma.outbound(second.dialer, "relay-beta")};
  End in2{w.beta.inbound(second.listener)};
  out2.start();
  in2.start();
  second.run();
  BOOST_REQUIRE(in2.s->peer());
  BOOST_TEST(in2.s->peer()->name == "relay-alpha");
  BOOST_TEST(in.s->peer()->name == "relay-alpha");  // the first link keeps what it proved
}

BOOST_AUTO_TEST_CASE(many_frames_round_trip_in_order_both_ways) {
  World w;
  auto out = relay::FramedStream::create(w.alpha.outbound(w.pipe.dialer, "relay-beta"), 64);
  auto in = relay::FramedStream::create(w.beta.inbound(w.pipe.listener), kPacketSize + 64);
  std::vector<Bytes> got_in, got_out;
  in->start([&](relay::FramedStream& f, Bytes body) {
              got_in.push_back(std::move(body));
              f.send(relay::encode_ack(got_in.size()));
            },
            nullptr, nullptr);
  out->start([&](relay::FramedStream&, Bytes body) { got_out.push_back(std::move(body)); },
             nullptr, nullptr);
  uint64_t seq = 0;
  for (int i = 0; i < 3; ++i) {  // before the handshake: queued
    ++seq;
    Bytes packet(kPacketSize, static_cast<uint8_t>(seq));
    out->send2(relay::encode_packet_header(seq), packet);
  }
  BOOST_TEST(out->pending_bytes() == 3 * (4 + 9 + kPacketSize));
  w.pipe.run();
  for (int burst = 1; burst <= 12; ++burst) {
    for (int i = 0; i < burst; ++i) {
      ++seq;
      Bytes packet(kPacketSize, static_cast<uint8_t>(seq));
      out->send2(relay::encode_packet_header(seq), packet);
    }
    w.pipe.run();
  }
  BOOST_REQUIRE(got_in.size() == seq);
  for (uint64_t n = 1; n <= seq; ++n) {
    const Bytes& body = got_in[n - 1];
    BOOST_REQUIRE(body.size() == 9 + kPacketSize);
    BOOST_TEST(relay::get_u64(body.data() + 1) == n);
    BOOST_TEST(body.back() == static_cast<uint8_t>(n));
  }
  BOOST_REQUIRE(got_out.size() == seq);  // one ack per packet came back
  BOOST_TEST(relay::get_u64(got_out.back().data() + 1) == seq);
  BOOST_TEST(out->pending_bytes() == 0u);
  out->close();
  in->close();
  w.pipe.run();
}

BOOST_AUTO_TEST_CASE(a_client_key_outside_the_directory_is_refused_and_counted) {
  World w;
  End out{w.mallory.outbound(w.pipe.dialer, "relay-beta")};
  End in{w.beta.inbound(w.pipe.listener)};
  out.start();
  in.start();
  write(*out.s, as_bytes("hello from outside"));
  w.pipe.run();
  BOOST_TEST(w.beta.stats().peers_refused_unknown_key == 1u);
  BOOST_TEST(w.beta.stats().handshakes_completed == 0u);
  BOOST_TEST(in.closes == 1u);
  BOOST_TEST(!in.s->peer());
  BOOST_TEST(in.reads == 0u);
  // The client had finished its side (TLS 1.3 clients finish first), then the alert closed it.
  BOOST_TEST(out.closes == 1u);
}

BOOST_AUTO_TEST_CASE(a_server_proving_another_relays_key_than_the_one_dialed_is_refused) {
  World w;
  // alpha dials relay-beta, but relay-gamma (a directory relay) answers.
  End out{w.alpha.outbound(w.pipe.dialer, "relay-beta")};
  End in{w.gamma.inbound(w.pipe.listener)};
  out.start();
  in.start();
  write(*out.s, as_bytes("for beta only"));
  w.pipe.run();
  BOOST_TEST(w.alpha.stats().peers_refused_wrong_key == 1u);
  BOOST_TEST(w.alpha.stats().handshakes_completed == 0u);
  BOOST_TEST(w.gamma.stats().handshakes_failed == 1u);  // it got alpha's alert
  BOOST_TEST(out.closes == 1u);
  BOOST_TEST(in.closes == 1u);
  BOOST_TEST(!out.s->peer());
  BOOST_TEST(in.reads == 0u);  // the queued bytes never left alpha
}

BOOST_AUTO_TEST_CASE(a_dialed_relay_that_left_the_directory_is_refused) {
  World w;
  w.directory.erase("relay-beta");
  End out{w.alpha.outbound(w.pipe.dialer, "relay-beta")};
  End in{w.beta.inbound(w.pipe.listener)};
  out.start();
  in.start();
  w.pipe.run();
  BOOST_TEST(w.alpha.stats().peers_refused_unknown_key == 1u);
  BOOST_TEST(out.closes == 1u);
  BOOST_TEST(in.closes == 1u);
}

// A TLS 1.3 client with a self-signed EC P-256 certificate, driven by hand over a pipe end.
struct P256Client {
  SSL_CTX* ctx = nullptr;
  SSL* ssl = nullptr;
  BIO* in = nullptr;
  BIO* out = nullptr;
  P256Client() {
    EVP_PKEY* key = EVP_EC_gen("P-256");
    BOOST_REQUIRE(key != nullptr);
    X509* cert = X509_new();
    X509_set_version(cert, X509_VERSION_3);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 7);
    X509_gmtime_adj(X509_getm_notBefore(cert), 0);
    X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
    X509_NAME* name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("veil-relay"), -1, -1, 0);
    X509_set_issuer_name(cert, name);
    X509_set_pubkey(cert, key);
    BOOST_REQUIRE(X509_sign(cert, key, EVP_sha256()) > 0);
    ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
    BOOST_REQUIRE(SSL_CTX_use_certificate(ctx, cert) == 1);
    BOOST_REQUIRE(SSL_CTX_use_PrivateKey(ctx, key) == 1);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
    X509_free(cert);
    EVP_PKEY_free(key);
    ssl = SSL_new(ctx);
    in = BIO_new(BIO_s_mem());
    out = BIO_new(BIO_s_mem());
    BIO_set_mem_eof_return(in, -1);
    SSL_set_bio(ssl, in, out);
    SSL_set_connect_state(ssl);
  }
  ~P256Client() {
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    ERR_clear_error();
  }
  // One handshake step; whatever it wrote goes to `wire`.
  void step(relay::Stream& wire) {
    SSL_do_handshake(ssl);
    ERR_clear_error();
    char* data = nullptr;
    const long len = BIO_get_mem_data(out, &data);
    if (len > 0) {
      const ByteView pieces[] = {
          ByteView(reinterpret_cast<const uint8_t*>(data), static_cast<std::size_t>(len))};
      wire.write(pieces);
      (void)BIO_reset(out);
    }
  }
};

BOOST_AUTO_TEST_CASE(a_peer_certificate_that_is_not_ed25519_is_refused) {
  World w;
  P256Client client;
  w.pipe.dialer->start({[&](ByteView b) {
                          BIO_write(client.in, b.data(), static_cast<int>(b.size()));
                        },
                        nullptr, nullptr});
  End in{w.beta.inbound(w.pipe.listener)};
  in.start();
  for (int i = 0; i < 10 && in.closes == 0; ++i) {
    client.step(*w.pipe.dialer);
    w.pipe.run();
  }
  BOOST_TEST(in.closes == 1u);
  BOOST_TEST(!in.s->peer());
  BOOST_TEST(w.beta.stats().peers_refused_unknown_key == 1u);
  BOOST_TEST(w.beta.stats().handshakes_completed == 0u);
}

BOOST_AUTO_TEST_CASE(a_handshake_the_peer_never_answers_times_out) {
  World w;
  End out{w.alpha.outbound(w.pipe.dialer, "relay-beta")};
  out.start();  // the listener end is never started: the ClientHello sits unread
  w.pipe.run();
  w.clock.advance(kTimeout - 1);
  w.pipe.run();
  BOOST_TEST(out.closes == 0u);
  BOOST_TEST(!out.s->closed());
  w.clock.advance(1);
  w.pipe.run();
  BOOST_TEST(out.closes == 1u);
  BOOST_TEST(w.alpha.stats().handshakes_timed_out == 1u);
  BOOST_TEST(w.alpha.stats().handshakes_failed == 0u);

  // The listener side: a dialer that connects and says nothing.
  Pipe quiet{w.clock};
  End in{w.beta.inbound(quiet.listener)};
  in.start();
  quiet.run();
  w.clock.advance(kTimeout);
  quiet.run();
  BOOST_TEST(in.closes == 1u);
  BOOST_TEST(w.beta.stats().handshakes_timed_out == 1u);
  BOOST_TEST(w.clock.armed_timers() == 0u);
}

BOOST_AUTO_TEST_CASE(garbage_instead_of_a_client_hello_closes_the_stream_and_is_counted) {
  World w;
  End in{w.beta.inbound(w.pipe.listener)};
  in.start();
  w.pipe.dialer->start({[](ByteView) {}, nullptr, nullptr});
  write(*w.pipe.dialer, as_bytes("GET / HTTP/1.1\r\nHost: relay-beta\r\n\r\n"));
  w.pipe.run();
  BOOST_TEST(in.closes == 1u);
  BOOST_TEST(in.reads == 0u);
  BOOST_TEST(w.beta.stats().handshakes_failed == 1u);
  BOOST_TEST(ERR_peek_error() == 0u);  // nothing left for the next connection
}

BOOST_AUTO_TEST_CASE(a_flipped_byte_in_a_record_after_the_handshake_closes_the_stream) {
  World w;
  End out{w.alpha.outbound(w.pipe.dialer, "relay-beta")};
  End in{w.beta.inbound(w.pipe.listener)};
  out.start();
  in.start();
  w.pipe.run();
  BOOST_REQUIRE(in.s->peer());
  write(*out.s, as_bytes("intact"));
  w.pipe.run();
  BOOST_TEST(std::string(in.data.begin(), in.data.end()) == "intact");
  w.pipe.dialer->tamper = [](Bytes& b) { b[b.size() / 2] ^= 0x01; };
  write(*out.s, as_bytes("tampered in flight"));
  w.pipe.run();
  BOOST_TEST(in.closes == 1u);
  BOOST_TEST(in.data.size() == 6u);  // nothing of the tampered record
  BOOST_TEST(out.closes == 1u);      // its alert, then the close, reached the sender
  BOOST_TEST(ERR_peek_error() == 0u);
}

// Packet frames written in bursts of 1..n (and some queued behind the handshake): every record
// that carries one has the same length on the wire, and each write is exactly its record(s).
void check_record_sizes(std::size_t packet_size) {
  World w;
  End out{w.alpha.outbound(w.pipe.dialer, "relay-beta")};
  End in{w.beta.inbound(w.pipe.listener)};
  out.start();
  in.start();
  uint64_t seq = 0;
  for (int i = 0; i < 4; ++i) write(*out.s, packet_frame(++seq, packet_size));
  w.pipe.run();
  BOOST_REQUIRE(in.s->peer());
  const std::size_t handshake_writes = 2;  // ClientHello; then Certificate … Finished
  for (int burst = 1; burst <= 9; ++burst) {
    for (int i = 0; i < burst; ++i) write(*out.s, packet_frame(++seq, packet_size));
    if (burst % 3 == 0) write(*in.s, as_bytes("ack"));  // traffic the other way in between
    w.pipe.run();
  }
  const std::size_t frame = 4 + 9 + packet_size;
  BOOST_TEST(in.data.size() == seq * frame);
  const auto& writes = w.pipe.dialer->writes;
  BOOST_REQUIRE(writes.size() == handshake_writes + seq);
  // Records of one frame: full 16 KiB records, then the rest; each + 17 (type byte and tag).
  std::vector<std::size_t> expected;
  for (std::size_t left = frame; left > 0; left -= std::min<std::size_t>(left, 16384)) {
    expected.push_back(std::min<std::size_t>(left, 16384) + 17);
  }
  for (std::size_t i = handshake_writes; i < writes.size(); ++i) {
    const auto records = records_in(writes[i]);
    BOOST_REQUIRE(records.size() == expected.size());
    for (std::size_t r = 0; r < records.size(); ++r) {
      BOOST_TEST(records[r].type == 23);  // application_data
      BOOST_TEST(records[r].length == expected[r]);
    }
  }
}

BOOST_AUTO_TEST_CASE(every_packet_frame_is_one_record_of_one_size_whatever_the_batching) {
  check_record_sizes(kPacketSize);  // 4109-byte frames: records of 4126 (4131 on the wire)
}

BOOST_AUTO_TEST_CASE(frames_above_the_record_limit_split_the_same_way_every_time) {
  check_record_sizes(40000);
}

BOOST_AUTO_TEST_CASE(a_paused_listener_finishes_the_handshake_and_reads_only_after_resume) {
  World w;
  End out{w.alpha.outbound(w.pipe.dialer, "relay-beta")};
  End in{w.beta.inbound(w.pipe.listener)};
  out.start();
  in.start();
  in.s->pause();
  write(*out.s, as_bytes("first"));  // goes with the client's last flight
  w.pipe.run();
  BOOST_REQUIRE(in.s->peer());  // the handshake was not held up by the pause
  write(*out.s, as_bytes("second"));
  w.pipe.run();
  BOOST_TEST(in.reads == 0u);
  in.s->resume();
  BOOST_TEST(in.reads == 0u);  // never inside resume()
  w.pipe.run();
  BOOST_TEST(std::string(in.data.begin(), in.data.end()) == "firstsecond");
  BOOST_TEST(!in.data_before_peer);
  in.s->pause();
  write(*out.s, as_bytes("third"));
  w.pipe.run();
  BOOST_TEST(in.data.size() == 11u);
  in.s->resume();
  w.pipe.run();
  BOOST_TEST(std::string(in.data.begin(), in.data.end()) == "firstsecondthird");
}

BOOST_AUTO_TEST_CASE(close_when_flushed_sends_what_was_queued_then_close_notify) {
  World w;
  End out{w.alpha.outbound(w.pipe.dialer, "relay-beta")};
  End in{w.beta.inbound(w.pipe.listener)};
  out.start();
  in.start();
  write(*out.s, as_bytes("queued behind the handshake"));
  out.s->close_when_flushed();
  BOOST_TEST(out.s->closed());
  write(*out.s, as_bytes("ignored once closing"));
  w.pipe.run();
  BOOST_TEST(std::string(in.data.begin(), in.data.end()) == "queued behind the handshake");
  BOOST_TEST(in.ends == 1u);  // close_notify: the end, not an error
  BOOST_TEST(in.closes == 0u);
  BOOST_TEST(out.closes == 1u);
  write(*in.s, as_bytes("an answer after the end"));  // TLS 1.3 allows it (half close)
  w.pipe.run();
  BOOST_TEST(in.closes == 0u);
  BOOST_TEST(!in.s->closed());
  // The listener may still answer after the end... but the dialer is gone; it closes too.
  in.s->close();
  w.pipe.run();
  BOOST_TEST(in.closes == 1u);
  BOOST_TEST(w.alpha.stats().handshakes_completed == 1u);
  BOOST_TEST(w.beta.stats().handshakes_completed == 1u);
}

BOOST_AUTO_TEST_CASE(close_drops_what_is_queued_and_runs_on_close_later) {
  World w;
  End out{w.alpha.outbound(w.pipe.dialer, "relay-beta")};
  out.start();
  write(*out.s, as_bytes("never sent"));
  BOOST_TEST(out.s->pending_bytes() == 10u);
  out.s->close();
  BOOST_TEST(out.s->closed());
  BOOST_TEST(out.s->pending_bytes() == 0u);
  BOOST_TEST(out.closes == 0u);  // not inside close()
  w.pipe.run();
  BOOST_TEST(out.closes == 1u);
  BOOST_TEST(w.alpha.stats().handshakes_failed == 0u);  // our own close is no failure
  BOOST_TEST(w.clock.armed_timers() == 0u);
}

BOOST_AUTO_TEST_CASE(the_handshake_benchmark_completes_its_handshakes) {
  const auto r = bench::measure_tls_handshakes(20);
  BOOST_TEST(r.handshakes == 20u);
  BOOST_TEST(r.server_seconds > 0);
  BOOST_TEST(r.server_seconds < r.seconds);
  BOOST_TEST_MESSAGE("TLS handshakes: " << r.per_second << "/s both ends, " << r.server_per_second
                                        << "/s listener side");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace veil::tls_test
