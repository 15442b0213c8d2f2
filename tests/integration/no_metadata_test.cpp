// Nothing identifying crosses: no byte of any peer link, and nothing beta's messenger receives,
// carries the sender's uuid, number or identity key, the submit time or the submit connection's
// port; deliveries hold only the named fields and a quantized timestamp.
#include <arpa/inet.h>

#include <algorithm>
#include <cstring>
#include <boost/test/unit_test.hpp>
#include <functional>
#include <set>
#include <unordered_set>

#include "crypto/service_id.h"
#include "harness.h"

namespace veil::it {

namespace {

struct Needle {
  std::string what;
  Bytes bytes;
};

Bytes text_bytes(const std::string& s) { return Bytes(s.begin(), s.end()); }

Bytes be64(uint64_t v) {
  Bytes b(8);
  for (int i = 7; i >= 0; --i, v >>= 8) b[static_cast<std::size_t>(i)] = static_cast<uint8_t>(v);
  return b;
}

Bytes le64(uint64_t v) {
  Bytes b(8);
  for (std::size_t i = 0; i < 8; ++i, v >>= 8) b[i] = static_cast<uint8_t>(v);
  return b;
}

std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return s;
}

// The needles that name a sender account (uuid as text and bytes, number, identity key).
void add_account(std::vector<Needle>& out, const std::string& who, const sim::Account& a,
                 const std::optional<std::string>& e164) {
  out.push_back({who + " uuid (text)", text_bytes(a.uuid)});
  out.push_back({who + " uuid (upper-case text)", text_bytes(upper(a.uuid))});
  const auto raw = crypto::parse_uuid(a.uuid);
  BOOST_REQUIRE(raw.ok());
  out.push_back({who + " uuid (16 bytes)", Bytes(raw->begin(), raw->end())});
  const auto& key = a.identity.pub.raw();
  out.push_back({who + " identity key (32 bytes)", Bytes(key.begin(), key.end())});
  if (e164) {
    out.push_back({who + " e164", text_bytes(*e164)});
    out.push_back({who + " e164 digits", text_bytes(e164->substr(1))});
  }
}

// The needles of one submission's circumstances: every millisecond of its submit window and
// the source port of its connection.
void add_circumstances(std::vector<Needle>& out, uint64_t t0, uint64_t t1, uint16_t port,
                       bool skip_quantum_multiples, uint64_t quantum) {
  for (uint64_t t = t0; t <= t1; ++t) {
    if (skip_quantum_multiples && t % quantum == 0) continue;  // the quantized stamp itself
    out.push_back({"submit time " + std::to_string(t) + " (decimal)", text_bytes(std::to_string(t))});
    out.push_back({"submit time " + std::to_string(t) + " (u64 BE)", be64(t)});
    out.push_back({"submit time " + std::to_string(t) + " (u64 LE)", le64(t)});
  }
  for (uint64_t s = t0 / 1000; s <= t1 / 1000; ++s) {
    out.push_back({"submit time " + std::to_string(s) + " s (decimal)", text_bytes(std::to_string(s))});
  }
  const std::string p = std::to_string(port);
  out.push_back({"submit port " + p + " (decimal)", text_bytes(p)});
  out.push_back({"submit address 127.0.0.1:" + p, text_bytes("127.0.0.1:" + p)});
  const uint8_t hi = static_cast<uint8_t>(port >> 8), lo = static_cast<uint8_t>(port);
  out.push_back({"submit address (addr, port BE)", Bytes{0x7f, 0, 0, 1, hi, lo}});
  out.push_back({"submit sockaddr_in (port BE, addr)", Bytes{hi, lo, 0x7f, 0, 0, 1}});
}

// The names of the needles found in `hay`, each once (two submissions in the same millisecond
// put the same time needles in the list twice).
std::vector<std::string> scan(ByteView hay, const std::vector<Needle>& needles) {
  std::set<std::string> found;
  for (const auto& n : needles) {
    const auto it = std::search(hay.begin(), hay.end(),
                                std::boyer_moore_horspool_searcher(n.bytes.begin(), n.bytes.end()));
    if (it != hay.end()) found.insert(n.what + " at offset " + std::to_string(it - hay.begin()));
  }
  return {found.begin(), found.end()};
}

uint64_t window(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(no_metadata)

BOOST_AUTO_TEST_CASE(links_and_deliveries_carry_no_sender_time_or_connection_data) {
  constexpr uint64_t kQuantum = 60'000;
  Deployment net("no-metadata", {{"timestamp_quantum_ms", kQuantum},
                                 {"mix", {{"strategy", "poisson"}, {"mean_delay_ms", 3}}}});
  const auto taps = net.tap_all(true, true);  // packets and raw streams
  sim::Tap* alpha_to_mix = taps.at({kAlpha, kMix});
  sim::Tap* mix_to_beta = taps.at({kMix, kBeta});
  net.start();

  // The sender's certificate also carries a phone number, so that it could leak too.
  sim::Account& sender = net.alpha.accounts[0];
  const std::string e164 = "+15550100123";
  {
    crypto::SenderCertificate::Fields f;
    f.sender_uuid = sender.uuid;
    f.sender_e164 = e164;
    f.sender_device = sender.device;
    f.expires_ms = wall_ms() + 86'400'000;
    f.identity_key = sender.identity.pub;
    auto cert = crypto::SenderCertificate::issue(f, &net.alpha.server_certificate, {},
                                                 net.alpha.server_key.priv, net.rng);
    BOOST_REQUIRE(cert.ok());
    sender.certificate = std::move(*cert);
  }

  std::vector<Needle> sender_needles;  // for links and deliveries
  add_account(sender_needles, "sender", sender, e164);
  std::vector<Needle> link_needles = sender_needles;  // links also must not show recipients
  std::vector<Needle> delivery_needles = sender_needles;
  std::map<std::size_t, std::pair<std::string, std::string>> submitted;  // n -> (access key, envelope)
  std::size_t expected = 0;
  uint64_t first_t0 = 0;
  for (std::size_t n = 0; n < 16; ++n) {
    relay::Submission s;
    if (n % 4 == 3) {
      std::vector<const sim::Account*> to = {&net.beta.accounts[n % 6], &net.beta.accounts[(n + 1) % 6],
                                             &net.beta.accounts[(n + 2) % 6]};
      s = v2_submission(sender, to, n, net.rng);
      expected += to.size();
    } else {
      s = v1_submission(sender, net.beta.accounts[n % 6], n, net.rng);
      ++expected;
    }
    submitted[n] = {s.access_key(), s.envelope()};
    link_needles.push_back({"message text " + std::to_string(n), text_bytes(message_text(n))});
    delivery_needles.push_back({"message text " + std::to_string(n), text_bytes(message_text(n))});
    uint16_t port = 0;
    const uint64_t t0 = wall_ms();
    if (first_t0 == 0) first_t0 = t0;
    const auto a = submit_one(net.submit_port(), s, 5000ms, &port);
    const uint64_t t1 = wall_ms();
    BOOST_REQUIRE_MESSAGE(a && a->status() == relay::SubmitAnswer::ACCEPTED, "submission " << n << " not accepted");
    add_circumstances(link_needles, t0, t1, port, false, kQuantum);
    add_circumstances(delivery_needles, t0, t1, port, true, kQuantum);
  }
  for (const auto& r : net.beta.accounts) add_account(link_needles, "recipient", r, std::nullopt);

  Inbox& inbox = net.beta_inbox();
  BOOST_REQUIRE_MESSAGE(wait_until(10s, [&] { return inbox.distinct() >= expected; }),
                        "delivered " << inbox.distinct() << " of " << expected);
  const uint64_t done = wall_ms();

  // The scanner finds what is there (positive control on a captured packet).
  const auto captured = alpha_to_mix->packets();
  BOOST_REQUIRE(!captured.empty());
  {
    Bytes planted = captured.front().packet;
    const Bytes& uuid_bytes = sender_needles[2].bytes;
    std::copy(uuid_bytes.begin(), uuid_bytes.end(), planted.begin() + 1000);
    const Bytes t = be64(first_t0);
    std::copy(t.begin(), t.end(), planted.begin() + 3000);
    const auto hits = scan(planted, link_needles);
    BOOST_REQUIRE_EQUAL(hits.size(), 2u);
  }

  // Every byte on every link, both directions (hellos, frame headers, sequence numbers, acks,
  // packets), and every packet on its own.
  std::size_t packets = 0, bytes = 0;
  for (const auto& [link, t] : taps) {
    for (const bool forward : {true, false}) {
      const Bytes stream = t->stream_bytes(forward);
      bytes += stream.size();
      const auto hits = scan(stream, link_needles);
      BOOST_TEST(hits.empty(), link.first << " -> " << link.second << (forward ? "" : " (backward)")
                                          << " carries: " << describe(hits));
    }
    for (const auto& p : t->packets()) {
      ++packets;
      const auto hits = scan(p.packet, link_needles);
      BOOST_TEST(hits.empty(), link.first << " -> " << link.second << " carries: " << describe(hits));
    }
  }
  BOOST_TEST(packets == 2 * submitted.size());
  BOOST_TEST(bytes > packets * 4096);

  // A hop's input and output share no bytes: no 8-byte run of an alpha -> mix packet appears in
  // any mix -> beta packet.
  {
    std::unordered_set<uint64_t> out_windows;
    for (const auto& p : mix_to_beta->packets()) {
      for (std::size_t i = 0; i + 8 <= p.packet.size(); ++i) out_windows.insert(window(p.packet.data() + i));
    }
    BOOST_REQUIRE(!out_windows.empty());
    std::size_t shared = 0;
    for (const auto& p : captured) {
      for (std::size_t i = 0; i + 8 <= p.packet.size(); ++i) shared += out_windows.count(window(p.packet.data() + i));
    }
    BOOST_TEST(shared == 0u, shared << " 8-byte runs of alpha->mix packets reappear on mix->beta");
  }

  // What beta's messenger receives: the named fields only (Inbox checks), nothing of the above,
  // a timestamp quantized to the configured quantum, and the submitted key and envelope.
  const auto problems = inbox.problems();
  BOOST_TEST(problems.empty(), describe(problems));
  for (const auto& e : inbox.entries()) {
    const relay::Delivery& d = e.delivery;
    const std::string frame = d.SerializeAsString();
    const auto hits = scan(as_bytes(frame), delivery_needles);
    BOOST_TEST(hits.empty(), "a delivery carries: " << describe(hits));
    BOOST_TEST(d.server_timestamp() % kQuantum == 0u, "timestamp " << d.server_timestamp() << " not quantized");
    BOOST_TEST(d.server_timestamp() >= first_t0 - first_t0 % kQuantum);
    BOOST_TEST(d.server_timestamp() <= done);
    BOOST_TEST(d.recipient().devices_size() == 1);
    BOOST_TEST(d.access_key() == submitted.at(e.message).first);
    if (e.version == 1) BOOST_TEST((d.envelope() == submitted.at(e.message).second));
    BOOST_TEST(e.sender_uuid == sender.uuid);  // the sender is known inside the seal only
  }
  BOOST_TEST_MESSAGE(link_needles.size() << " needles over " << bytes << " link bytes, "
                                         << delivery_needles.size() << " over " << inbox.entries().size()
                                         << " deliveries");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace veil::it
