// Limits in process: a peer port holds no more connections than its caps (in all and per source),
// a connection that stalls mid-frame or never identifies itself is closed after the frame timeout,
// one that never reads is closed past the unread bound, a frame over an interface's maximum ends
// its connection, submissions over a destination's rate are answered busy; each is counted, and
// everyone else's messages go through.
#include <boost/test/unit_test.hpp>
#include <memory>
#include <vector>

#include "proxy/relay/core/framing.h"
#include "support.h"

namespace veil::relay_test {
namespace {

constexpr Micros kSecond = 1'000'000;

// A raw connection to one of a relay's listeners, from `source` (empty: none), reading what comes
// unless told not to.
struct RawConn {
  struct Seen {
    bool ended = false;
    bool closed = false;
  };
  std::unique_ptr<relay::Dialer> dialer;
  std::shared_ptr<relay::Stream> stream;
  // Shared with the stream's handlers, which may run after this object is gone (the world
  // closes what is left open when it ends).
  std::shared_ptr<Seen> seen = std::make_shared<Seen>();
  RawConn(sim::InProcessWorld& w, const relay::Endpoint& to, const std::string& source = {},
          bool read = true) {
    auto on_connected = [this, read](std::shared_ptr<relay::Stream> s) {
      dialer->stop();
      stream = std::move(s);
      if (read) start();
    };
    dialer = source.empty() ? w.net.dialer(to, on_connected) : w.net.dialer_from(source, to, on_connected);
    dialer->start();
    w.settle();
  }
  void start() {
    std::shared_ptr<Seen> s = seen;
    stream->start({[](ByteView) {}, [s] { s->ended = true; }, [s] { s->closed = true; }});
  }
  // The relay closed it (seen as the end of input, or the close).
  bool dropped() const { return seen->ended || seen->closed; }
  void send(ByteView bytes) {
    const ByteView pieces[] = {bytes};
    stream->write(pieces);
  }
};

relay::Endpoint peer_port(sim::InProcessWorld& w, const std::string& relay) {
  return w.node(relay).config.peer_listen;
}
relay::Endpoint submit_port(sim::InProcessWorld& w) { return w.node(kAlpha).config.submit_listen; }

std::size_t count_dropped(const std::vector<std::unique_ptr<RawConn>>& v) {
  std::size_t n = 0;
  for (const auto& c : v) n += c->dropped() ? 1 : 0;
  return n;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(limits)

BOOST_AUTO_TEST_CASE(a_peer_port_holds_no_more_than_its_caps_in_all_and_per_source) {
  sim::InProcessWorld w;
  declare_world(w, false, {}, {}, [](relay::RelayConfig& c) {
    c.limits.peer_connections = 6;  // connections whose peer is not known; relay-alpha's link is known
    c.limits.peer_connections_per_source = 3;
  });
  w.start();
  std::vector<std::unique_ptr<RawConn>> same, others;
  for (int i = 0; i < 5; ++i) same.push_back(std::make_unique<RawConn>(w, peer_port(w, kBeta), "198.51.100.7"));
  w.settle();
  BOOST_TEST(count_dropped(same) == 2u);  // three held from one source
  BOOST_TEST(w.counter(kBeta, Counter::peer_connections_refused_source) == 2u);
  for (int i = 0; i < 5; ++i) {
    others.push_back(std::make_unique<RawConn>(w, peer_port(w, kBeta), "198.51.100." + std::to_string(20 + i)));
  }
  w.settle();
  // Three fit (3 + 3 = 6); each of the other two made room by closing the oldest unknown one.
  BOOST_TEST(count_dropped(others) == 0u);
  BOOST_TEST(same[0]->dropped());  // the oldest two
  BOOST_TEST(same[1]->dropped());
  BOOST_TEST(!same[2]->dropped());
  BOOST_TEST(count_dropped(same) == 4u);
  BOOST_TEST(w.counter(kBeta, Counter::peer_connections_refused) == 2u);
  // The known relay's link was never at risk, and nobody else's messages are touched.
  w.submitter(kAlpha).send(message_to_beta(w, 1));
  w.settle();
  BOOST_TEST(w.deliver(kBeta).deliveries().size() == 1u);
  BOOST_TEST(w.counter(kAlpha, Counter::peer_disconnects) == 0u);
  // A connection that closes gives its place back to its source.
  same[2]->stream->close();
  w.settle();
  RawConn again(w, peer_port(w, kBeta), "198.51.100.7");
  w.settle();
  BOOST_TEST(!again.dropped());
  BOOST_TEST(w.counter(kBeta, Counter::peer_connections_refused_source) == 2u);
}

BOOST_AUTO_TEST_CASE(the_submit_interface_holds_no_more_than_its_cap) {
  sim::InProcessWorld w;
  declare_world(w, false, [](relay::RelayConfig& c) { c.limits.submit_connections = 3; });
  w.start();  // the world's own submitter is one
  std::vector<std::unique_ptr<RawConn>> conns;
  for (int i = 0; i < 4; ++i) conns.push_back(std::make_unique<RawConn>(w, submit_port(w)));
  w.settle();
  BOOST_TEST(count_dropped(conns) == 2u);
  BOOST_TEST(w.counter(kAlpha, Counter::submit_connections_refused) == 2u);
  w.submitter(kAlpha).send(message_to_beta(w, 1));
  w.settle();
  BOOST_TEST(w.submitter(kAlpha).accepted() == 1u);
}

BOOST_AUTO_TEST_CASE(a_stalled_frame_or_an_unidentified_peer_is_closed_after_the_frame_timeout) {
  sim::InProcessWorld w;
  const auto two_seconds = [](relay::RelayConfig& c) { c.limits.frame_timeout = 2 * kSecond; };
  declare_world(w, false, two_seconds, {}, two_seconds);
  w.start();
  RawConn partial(w, submit_port(w));
  const auto head = relay::frame_header(100);
  partial.send(head);
  partial.send(Bytes(10, 0x01));  // 10 of the 100 bytes
  RawConn idle(w, submit_port(w));  // nothing begun: a quiet messenger connection is fine
  RawConn silent(w, peer_port(w, kBeta));  // never says who it is
  w.advance(kSecond);
  partial.send(Bytes(10, 0x01));  // trickling bytes is not progress: a frame is
  w.advance(kSecond / 2);
  BOOST_TEST(!partial.dropped());
  BOOST_TEST(!silent.dropped());
  w.advance(kSecond + kSecond / 2);  // 3 s in: past the timeout, within one look after it
  BOOST_TEST(partial.dropped());
  BOOST_TEST(silent.dropped());
  BOOST_TEST(!idle.dropped());
  BOOST_TEST(w.counter(kAlpha, Counter::submit_connections_slow) == 1u);
  BOOST_TEST(w.counter(kBeta, Counter::peer_connections_slow) == 1u);
  // The relays' own link is quiet too, and stays: its peer is known.
  w.advance(10 * kSecond);
  BOOST_TEST(w.counter(kBeta, Counter::peer_connections_slow) == 1u);
  w.submitter(kAlpha).send(message_to_beta(w, 1));
  w.settle();
  BOOST_TEST(w.deliver(kBeta).deliveries().size() == 1u);
  BOOST_TEST(w.counter(kAlpha, Counter::peer_disconnects) == 0u);
}

BOOST_AUTO_TEST_CASE(a_submitter_that_never_reads_its_answers_is_closed_past_the_unread_bound) {
  sim::InProcessWorld w;
  declare_world(w, false, [](relay::RelayConfig& c) {
    c.limits.unread_bytes = 1000;
    c.limits.frame_timeout = 2 * kSecond;
  });
  w.start();
  RawConn deaf(w, submit_port(w), {}, /*read=*/false);
  // Submissions with no valid body: each is answered (malformed), about 40 bytes an answer.
  for (int i = 0; i < 100; ++i) deaf.send(relay::frame(as_bytes(std::string("\x08\x01\x12\x01x", 5))));
  w.settle();
  BOOST_TEST(w.counter(kAlpha, Counter::submissions_rejected) == 100u);
  BOOST_TEST(w.counter(kAlpha, Counter::submit_connections_unread) == 0u);  // not looked at yet
  w.advance(kSecond);
  BOOST_TEST(w.counter(kAlpha, Counter::submit_connections_unread) == 1u);
  deaf.start();
  w.settle();
  BOOST_TEST(deaf.dropped());
  w.submitter(kAlpha).send(message_to_beta(w, 1));
  w.settle();
  BOOST_TEST(w.submitter(kAlpha).accepted() == 1u);
}

BOOST_AUTO_TEST_CASE(submissions_over_a_destinations_rate_are_answered_busy) {
  sim::InProcessWorld w;
  declare_world(w, false, [](relay::RelayConfig& c) {
    c.limits.submit_rate = 10;  // per second
    c.limits.submit_burst = 5;
  });
  w.start();
  auto& sub = w.submitter(kAlpha);
  std::vector<relay::Submission> burst;
  for (uint64_t n = 1; n <= 8; ++n) burst.push_back(message_to_beta(w, n));
  sub.send_all(burst);
  w.settle();
  BOOST_TEST(sub.accepted() == 5u);
  BOOST_TEST(w.counter(kAlpha, Counter::submissions_rate_limited) == 3u);
  BOOST_TEST(w.relay(kAlpha).metrics().rejected_by_reason[static_cast<int>(Error::busy)] == 3u);
  BOOST_TEST(sub.answers().back().reason() == "busy");
  w.advance(kSecond / 5);  // two more tokens
  sub.send(message_to_beta(w, 9));
  sub.send(message_to_beta(w, 10));
  sub.send(message_to_beta(w, 11));
  w.settle();
  BOOST_TEST(sub.accepted() == 7u);
  w.advance(5 * kSecond);
  BOOST_TEST(w.deliver(kBeta).deliveries().size() == 7u);  // what was accepted arrives
}

BOOST_AUTO_TEST_CASE(every_interface_refuses_a_frame_over_its_maximum) {
  sim::InProcessWorld w;
  declare_world(w, false);
  w.start();
  // Peer link: a packet frame is at most packet_size + 64 bytes.
  RawConn peer(w, peer_port(w, kBeta));
  peer.send(relay::frame_header(w.node(kBeta).config.packet_size + 65));
  w.settle();
  BOOST_TEST(peer.dropped());
  BOOST_TEST(w.counter(kBeta, Counter::peer_frames_malformed) == 1u);
  // Deliver: an acknowledgement is at most 64 bytes; the relay drops the link and dials again.
  w.deliver(kBeta).send_frame(Bytes(65, 0x08));
  w.settle();
  BOOST_TEST(w.counter(kBeta, Counter::deliver_frames_malformed) == 1u);
  w.advance(kSecond);
  BOOST_TEST(w.counter(kBeta, Counter::deliver_connects) == 2u);
  // Submit: a frame is at most 1 MiB.
  RawConn big(w, submit_port(w));
  big.send(relay::frame_header((1u << 20) + 1));
  w.settle();
  BOOST_TEST(w.counter(kAlpha, Counter::submit_frames_malformed) == 1u);
  BOOST_TEST(big.dropped());
  // Nobody else noticed.
  w.submitter(kAlpha).send(message_to_beta(w, 1));
  w.advance(kSecond);
  BOOST_TEST(w.deliver(kBeta).deliveries().size() == 1u);
}

BOOST_AUTO_TEST_CASE(limits_change_on_reload) {
  sim::InProcessWorld w;
  declare_world(w, false);
  w.start();
  relay::RelayConfig next = w.node(kAlpha).config;
  next.limits.submit_rate = 1;
  next.limits.submit_burst = 1;
  const auto out = w.relay(kAlpha).reconfigure(next);
  BOOST_TEST(out.needs_restart.empty());
  BOOST_TEST((std::find(out.changed.begin(), out.changed.end(), "limits") != out.changed.end()));
  auto& sub = w.submitter(kAlpha);
  sub.send_all({message_to_beta(w, 1), message_to_beta(w, 2)});
  w.settle();
  BOOST_TEST(sub.accepted() == 1u);
  BOOST_TEST(w.counter(kAlpha, Counter::submissions_rate_limited) == 1u);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace veil::relay_test
