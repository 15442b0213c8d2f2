// Identity leakage: nothing that leaves a relay towards another relay or provider carries the
// sender's uuid, e164, identity key or certificate, the submit connection's address/port, or the
// submit time; link bytes carry no recipient, access key or envelope bytes either.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cctype>
#include <set>

#include "crypto/service_id.h"
#include "stats.h"
#include "support.h"

namespace veil::privacy {
namespace {

struct Needle {
  std::string what;
  Bytes bytes;
};

Bytes text(const std::string& s) { return Bytes(s.begin(), s.end()); }

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string without_hyphens(std::string s) {
  s.erase(std::remove(s.begin(), s.end(), '-'), s.end());
  return s;
}

// A sender whose certificate also names an e164, issued by alpha.example.
sim::Account make_sender(const sim::Provider& p, const std::string& e164, Rng& rng) {
  crypto::Uuid u{};
  rng.fill(u);
  u[6] = static_cast<uint8_t>((u[6] & 0x0F) | 0x40);
  u[8] = static_cast<uint8_t>((u[8] & 0x3F) | 0x80);
  sim::Account a{crypto::format_uuid(u), crypto::KeyPair::generate(rng), {}, 0, 1, {}};
  rng.fill(a.access_key);
  a.registration_id = 4242;
  crypto::SenderCertificate::Fields f;
  f.sender_uuid = a.uuid;
  f.sender_e164 = e164;
  f.sender_device = a.device;
  f.expires_ms = wall_ms() + 86'400'000;
  f.identity_key = a.identity.pub;
  a.certificate = std::move(*crypto::SenderCertificate::issue(f, &p.server_certificate, {},
                                                              p.server_key.priv, rng));
  return a;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(identity)

// Scans every byte seen on every directed link (both directions: frames, hellos, packets, acks)
// and every delivery handed to beta.example's server.
//
// False alarms: the haystack is ~0.6 MB of ciphertext and framing. Exact needles are >= 6 bytes (a
// random match somewhere has probability <= 1e6 * 2^-48 per needle, < 1e-6 for all ~170); time
// ranges read as u64 (ms/us/ns, +-60 s), as >= 10 decimal digits, or (deliveries only, ~20 KB) as
// a varint are each below 1e-5. A 4-byte seconds value is
// within the noise of random bytes, so it is counted instead: under "no leak" the count is
// Poisson(lambda = 2 L W / 2^32) and the test fails only at the upper 1e-4 point; a leak would
// add one match per submission. Total false-alarm rate < 2e-4.
BOOST_AUTO_TEST_CASE(no_sender_identity_address_or_time_on_any_link) {
  Watchdog guard(60);
  Spec spec;
  spec.mixes = 1;
  spec.common = {{"mix_hops", 1},
                 {"mix", {{"strategy", "poisson"}, {"mean_delay_ms", 5}}},
                 {"cover", {{"drop_rate", 10}, {"loop_rate", 10}}}};
  spec.seed = 101;
  Deployment d(spec, "identity");
  d.tap_all(true, true);
  const std::string e164 = "+15550100234";
  const sim::Account sender = make_sender(d.alpha, e164, d.rng);
  d.start();

  struct Sent {
    uint16_t port;
    uint64_t at_ms;
    std::string envelope;
    std::vector<std::string> recipients;
    Bytes access_key;
  };
  std::vector<Sent> sent;
  std::size_t expected = 0;
  const auto& beta = d.beta.accounts;
  for (uint64_t i = 0; i < 12; ++i) {
    veil::relay::Submission s;
    std::vector<std::string> rcpts;
    const std::string content = "identity probe #" + std::to_string(i) + " from " + sender.uuid;
    if (i % 3 == 2) {
      std::vector<const sim::Account*> to{&beta[i % beta.size()], &beta[(i + 1) % beta.size()],
                                          &beta[(i + 2) % beta.size()]};
      s = v2_submission(sender, to, as_bytes(content), d.rng, i);
      for (auto* a : to) rcpts.push_back(a->uuid);
      expected += 3;
    } else {
      const sim::Account& to = beta[i % beta.size()];
      s = v1_submission(sender, to, as_bytes(content), d.rng, i);
      rcpts.push_back(to.uuid);
      expected += 1;
    }
    Submitter sub(d.submit_port());  // a fresh connection (and source port) per submission
    const uint64_t at = wall_ms();
    const auto answer = sub.submit(s);
    BOOST_REQUIRE_EQUAL(answer.status(), veil::relay::SubmitAnswer::ACCEPTED);
    sent.push_back({sub.local_port(), at, s.envelope(), rcpts,
                    Bytes(s.access_key().begin(), s.access_key().end())});
    std::this_thread::sleep_for(Millis(20));
  }
  BOOST_REQUIRE(wait_until(Millis(15'000), [&] { return d.beta_delivery_count() >= expected; }));
  std::this_thread::sleep_for(Millis(300));  // more covers, late duplicates
  d.stop();

  // ---- haystacks ----
  std::vector<std::pair<std::string, Bytes>> links;
  std::size_t packets = 0;
  for (const auto& [ends, tap] : d.links()) {
    const std::string name = ends.first + "->" + ends.second;
    links.emplace_back(name + " (forward)", tap->stream_bytes(true));
    links.emplace_back(name + " (acks)", tap->stream_bytes(false));
    packets += tap->packet_count();
  }
  std::size_t link_bytes = 0;
  for (const auto& l : links) link_bytes += l.second.size();
  const auto deliveries = d.beta_deliveries();
  BOOST_REQUIRE_EQUAL(deliveries.size(), expected);
  std::vector<std::pair<std::string, Bytes>> delivered;
  std::set<uint64_t> stamps;
  for (const auto& x : deliveries) {
    // The relay-named fields only, and an hour-quantized server timestamp.
    BOOST_CHECK_EQUAL(x.delivery.GetReflection()->GetUnknownFields(x.delivery).field_count(), 0);
    BOOST_CHECK_EQUAL(x.delivery.server_timestamp() % 3'600'000, 0u);
    stamps.insert(x.delivery.server_timestamp());
    veil::relay::Delivery copy = x.delivery;
    copy.clear_server_timestamp();  // checked above; scanned without it
    const std::string raw = copy.SerializeAsString();
    delivered.emplace_back("delivery to beta.example", Bytes(raw.begin(), raw.end()));
  }
  BOOST_CHECK(d.alpha_deliveries().empty());
  report("identity: %zu links, %zu packets, %zu link bytes scanned; %zu deliveries", links.size(),
         packets, link_bytes, deliveries.size());
  BOOST_REQUIRE_GT(packets, 2 * sent.size());  // real traffic and covers were captured

  // ---- needles that must appear nowhere (links and deliveries) ----
  std::vector<Needle> everywhere;
  const auto raw_uuid = *crypto::parse_uuid(sender.uuid);
  everywhere.push_back({"sender uuid", text(sender.uuid)});
  everywhere.push_back({"sender uuid (upper case)", text(upper(sender.uuid))});
  everywhere.push_back({"sender uuid (hex)", text(without_hyphens(sender.uuid))});
  everywhere.push_back({"sender uuid (upper hex)", text(upper(without_hyphens(sender.uuid)))});
  everywhere.push_back({"sender uuid (16 bytes)", Bytes(raw_uuid.begin(), raw_uuid.end())});
  everywhere.push_back({"sender e164", text(e164)});
  everywhere.push_back({"sender e164 digits", text(e164.substr(1))});
  const auto ser = sender.identity.pub.serialize();
  everywhere.push_back({"sender identity key (33 bytes)", Bytes(ser.begin(), ser.end())});
  const auto& raw_key = sender.identity.pub.raw();
  everywhere.push_back({"sender identity key (32 bytes)", Bytes(raw_key.begin(), raw_key.end())});
  everywhere.push_back({"sender certificate", sender.certificate.serialized});
  everywhere.push_back({"loopback address text", text("127.0.0.1")});
  for (const Sent& s : sent) {
    const auto p = s.port;
    const uint8_t hi = static_cast<uint8_t>(p >> 8), lo = static_cast<uint8_t>(p);
    const std::string tag = "submit port " + std::to_string(p);
    everywhere.push_back({tag + " (text)", text(":" + std::to_string(p))});
    everywhere.push_back({tag + " (sockaddr)", Bytes{0x02, 0x00, hi, lo, 0x7f, 0, 0, 1}});
    everywhere.push_back({tag + " (port|ip)", Bytes{hi, lo, 0x7f, 0, 0, 1}});
    everywhere.push_back({tag + " (ip|port)", Bytes{0x7f, 0, 0, 1, hi, lo}});
    everywhere.push_back({tag + " (le port|ip)", Bytes{lo, hi, 0x7f, 0, 0, 1}});
    everywhere.push_back({tag + " (ip|le port)", Bytes{0x7f, 0, 0, 1, lo, hi}});
  }
  // ---- needles that must not appear on links (they legitimately reach beta.example) ----
  std::vector<Needle> on_links;
  for (const Sent& s : sent) {
    for (const auto& r : s.recipients) {
      on_links.push_back({"recipient uuid", text(r)});
      const auto ru = *crypto::parse_uuid(r);
      on_links.push_back({"recipient uuid (16 bytes)", Bytes(ru.begin(), ru.end())});
    }
    on_links.push_back({"access key", s.access_key});
    const Bytes env(s.envelope.begin(), s.envelope.end());
    for (std::size_t off : {std::size_t{0}, env.size() / 2, env.size() - 32}) {
      on_links.push_back({"envelope bytes @" + std::to_string(off),
                          Bytes(env.begin() + static_cast<long>(off),
                                env.begin() + static_cast<long>(off) + 32)});
    }
  }

  std::size_t hits = 0;
  auto scan = [&](const std::vector<std::pair<std::string, Bytes>>& hay,
                  const std::vector<Needle>& needles) {
    for (const auto& [where, bytes] : hay) {
      for (const Needle& n : needles) {
        const auto at = stats::find_all(bytes, n.bytes);
        if (!at.empty()) {
          ++hits;
          BOOST_ERROR(n.what << " found in " << where << " at offset " << at.front());
        }
      }
    }
  };
  scan(links, everywhere);
  scan(links, on_links);
  scan(delivered, everywhere);

  // ---- submit time ----
  uint64_t t_lo = sent.front().at_ms, t_hi = sent.front().at_ms;
  for (const Sent& s : sent) {
    t_lo = std::min(t_lo, s.at_ms);
    t_hi = std::max(t_hi, s.at_ms);
  }
  t_lo -= 60'000;
  t_hi += 60'000;
  std::size_t u32_matches = 0, link_offsets = 0;
  for (const auto* hay : {&links, &delivered}) {
    for (const auto& [where, bytes] : *hay) {
      struct Range {
        const char* unit;
        uint64_t lo, hi;
      };
      for (const Range& r : {Range{"ms", t_lo, t_hi}, Range{"us", t_lo * 1000, t_hi * 1000},
                             Range{"ns", t_lo * 1'000'000, t_hi * 1'000'000}}) {
        const auto at = stats::find_u64_in_range(bytes, r.lo, r.hi);
        if (!at.empty()) {
          ++hits;
          BOOST_ERROR("submit time (u64 " << r.unit << ") in " << where << " at " << at.front());
        }
      }
      struct Digits {
        std::size_t n;
        uint64_t lo, hi;
      };
      for (const Digits& g : {Digits{10, t_lo / 1000, t_hi / 1000}, Digits{13, t_lo, t_hi},
                              Digits{16, t_lo * 1000, t_hi * 1000}}) {
        const auto at = stats::find_decimal_in_range(bytes, g.n, g.lo, g.hi);
        if (!at.empty()) {
          ++hits;
          BOOST_ERROR("submit time (" << g.n << " decimal digits) in " << where << " at " << at.front());
        }
      }
      if (hay == &delivered) {
        for (const auto& [lo, hi] : {std::pair{t_lo, t_hi}, std::pair{t_lo * 1000, t_hi * 1000}}) {
          const auto at = stats::find_varint_in_range(bytes, lo, hi);
          if (!at.empty()) {
            ++hits;
            BOOST_ERROR("submit time (varint) in " << where << " at " << at.front());
          }
        }
      }
      u32_matches += stats::count_u32_in_range(bytes, static_cast<uint32_t>(t_lo / 1000),
                                               static_cast<uint32_t>(t_hi / 1000));
      link_offsets += bytes.size();
    }
  }
  const double width = static_cast<double>(t_hi / 1000 - t_lo / 1000 + 1);
  const double lambda = 2.0 * static_cast<double>(link_offsets) * width / 4294967296.0;
  const std::size_t u32_limit = stats::upper_threshold(stats::poisson_pmf(lambda, 64), 1e-4);
  report("identity: u32 seconds-in-window matches %zu (chance expectation %.4f, fail at >= %zu)",
         u32_matches, lambda, u32_limit);
  BOOST_CHECK_LT(u32_matches, u32_limit);
  report("identity: %zu + %zu needles, %zu hits; delivery timestamps quantized: %zu distinct",
         everywhere.size(), on_links.size(), hits, stamps.size());

  // ---- positive controls: the scanner finds what legitimately reaches beta.example ----
  std::size_t found_envelopes = 0, found_recipients = 0;
  for (const Sent& s : sent) {
    bool env_found = false;
    const Bytes window(s.envelope.end() - 32, s.envelope.end());
    for (const auto& [where, bytes] : delivered) env_found |= !stats::find_all(bytes, window).empty();
    found_envelopes += env_found;
    for (const auto& r : s.recipients) {
      bool rf = false;
      for (const auto& [where, bytes] : delivered) rf |= !stats::find_all(bytes, text(r)).empty();
      found_recipients += rf;
    }
  }
  std::size_t recipients_total = 0;
  for (const Sent& s : sent) recipients_total += s.recipients.size();
  BOOST_CHECK_EQUAL(found_envelopes, sent.size());
  BOOST_CHECK_EQUAL(found_recipients, recipients_total);
  report("identity: positive control: %zu/%zu envelope tails and %zu/%zu recipient ids found in "
         "deliveries",
         found_envelopes, sent.size(), found_recipients, recipients_total);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace veil::privacy
