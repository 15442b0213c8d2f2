// Tagging: flipping any single bit of a packet on any link — head, tag, routing, body or tail —
// makes it vanish at the next hop (packets_dropped_auth); it is never delivered, altered or not,
// and every untouched packet still gets through exactly once.
#include <boost/test/unit_test.hpp>

#include <map>
#include <set>

#include "support.h"

namespace veil::privacy {
namespace {

struct Region {
  const char* name;
  std::size_t begin, end;
};

// Bit positions to flip: per region the first and last bit and one drawn from SeededRng(seed);
// the head also gets bit 255 (the top bit of byte 31, which X25519 ignores in a u-coordinate).
std::vector<std::pair<std::string, std::size_t>> plan(std::size_t packet_size, uint64_t seed) {
  const Region regions[] = {{"head", 0, 32},
                            {"tag", 32, 48},
                            {"routing", 48, 80},
                            {"body", 80, packet_size - 80},
                            {"tail", packet_size - 80, packet_size}};
  SeededRng rng(seed);
  std::vector<std::pair<std::string, std::size_t>> bits;
  for (const Region& r : regions) {
    const std::size_t lo = r.begin * 8, hi = r.end * 8;
    bits.emplace_back(r.name, lo);
    bits.emplace_back(r.name, hi - 1);
    bits.emplace_back(r.name, lo + rng.uniform(hi - lo));
    if (std::string(r.name) == "head") bits.emplace_back(r.name, 255);
  }
  return bits;
}

// Flips planned bits in every other packet on a link, remembering the originals.
struct Tagger {
  std::vector<std::pair<std::string, std::size_t>> bits;
  std::size_t seen = 0, next = 0;
  std::vector<std::pair<Bytes, std::string>> originals;  // (packet before the flip, "region bit")
  void operator()(Bytes& packet) {
    const std::size_t i = seen++;
    if (i % 2 != 0 || next >= bits.size()) return;
    const auto& [region, bit] = bits[next++];
    originals.emplace_back(packet, region + " bit " + std::to_string(bit));
    packet[bit / 8] = static_cast<uint8_t>(packet[bit / 8] ^ (1u << (bit % 8)));
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(tagging)

// Deterministic (no statistics). relay-alpha -> mix-1 -> relay-beta, no covers. The tagger on
// alpha -> mix (pairwise layer) flips one planned bit in every other packet; the tagger on
// mix -> beta (onion layer) does the same among the packets that got through. Ground truth of a
// tagged packet: its original bytes, peeled with the relays' keys.
BOOST_AUTO_TEST_CASE(flipped_bit_anywhere_drops_packet_at_next_hop) {
  Watchdog guard(60);
  const std::size_t packet_size = 1024;
  Spec spec;
  spec.mixes = 1;
  spec.seed = 701;
  spec.common = {{"mix_hops", 1},
                 {"packet_size", packet_size},
                 {"mix", {{"strategy", "none"}}},
                 {"cover", {{"drop_rate", 0}, {"loop_rate", 0}}}};
  Deployment d(spec, "tagging");
  sim::Tap& first = d.tap(kAlpha, "mix-1", true);
  sim::Tap& second = d.tap("mix-1", kBeta, true);
  auto tag1 = std::make_shared<Tagger>();
  auto tag2 = std::make_shared<Tagger>();
  tag1->bits = plan(packet_size, 702);
  tag2->bits = plan(packet_size, 703);
  first.set_mutator([tag1](Bytes& p) { (*tag1)(p); });
  second.set_mutator([tag2](Bytes& p) { (*tag2)(p); });
  d.start();

  // Enough messages that both taggers run through their plans: the second link sees half.
  const std::size_t n = 2 * (tag1->bits.size() + 2 * tag2->bits.size()) + 4;
  std::map<std::string, std::size_t> by_envelope;
  Submitter sub(d.submit_port());
  const auto& beta = d.beta.accounts;
  for (std::size_t i = 0; i < n; ++i) {
    const std::string content = "tagging target " + std::to_string(i);
    const auto s = v1_submission(d.alpha.accounts[2], beta[i % beta.size()], as_bytes(content), d.rng, i);
    by_envelope[s.envelope()] = i;
    BOOST_REQUIRE_EQUAL(sub.submit(s).status(), veil::relay::SubmitAnswer::ACCEPTED);
    // One at a time through the whole path, so each link sees packets in submission order.
    BOOST_REQUIRE(wait_until(Millis(5000), [&] { return first.packet_count() > i; }, Millis(1)));
  }
  const std::size_t tagged_first = tag1->bits.size();
  const std::size_t tagged_second = tag2->bits.size();
  const std::size_t expected = n - tagged_first - tagged_second;
  BOOST_REQUIRE(wait_until(Millis(10'000), [&] {
    return d.beta_delivery_count() >= expected &&
           d.counter("mix-1", "packets_dropped_auth") >= tagged_first &&
           d.counter(kBeta, "packets_dropped_auth") >= tagged_second;
  }));
  std::this_thread::sleep_for(Millis(400));  // anything tagged that got through would show now
  const auto mix_m = d.metrics("mix-1");
  const auto beta_m = d.metrics(kBeta);
  d.stop();

  // Which inputs were tagged, by peeling the originals.
  std::set<std::size_t> tagged;
  std::map<std::string, std::size_t> per_region;
  for (const auto& [tagger, from, to] :
       {std::tuple{tag1, std::string(kAlpha), std::string("mix-1")},
        std::tuple{tag2, std::string("mix-1"), std::string(kBeta)}}) {
    BOOST_REQUIRE_EQUAL(tagger->next, tagger->bits.size());  // every planned flip happened
    for (const auto& [orig, where] : tagger->originals) {
      const Peeled p = peel(d, orig, from, to);
      auto it = p.ok ? by_envelope.find(p.envelope) : by_envelope.end();
      BOOST_REQUIRE_MESSAGE(it != by_envelope.end(), "tagged original on " << from << "->" << to << " not peelable");
      tagged.insert(it->second);
      ++per_region[where.substr(0, where.find(' '))];
    }
  }
  BOOST_REQUIRE_EQUAL(tagged.size(), tagged_first + tagged_second);

  std::map<std::size_t, std::size_t> delivered;
  std::size_t altered = 0;
  for (const auto& x : d.beta_deliveries()) {
    auto it = by_envelope.find(x.delivery.envelope());
    if (it == by_envelope.end()) {
      ++altered;  // an envelope nobody submitted
      continue;
    }
    ++delivered[it->second];
  }
  std::size_t tagged_delivered = 0, untouched_missing = 0, duplicates = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const bool was_tagged = tagged.count(i) > 0;
    const std::size_t c = delivered.count(i) ? delivered[i] : 0;
    if (was_tagged && c > 0) ++tagged_delivered;
    if (!was_tagged && c == 0) ++untouched_missing;
    if (c > 1) ++duplicates;
  }
  const auto count = [](const nlohmann::json& m, const char* name) {
    return m["counters"][name].get<uint64_t>();
  };
  std::string regions;
  for (const auto& [r, c] : per_region) regions += r + ":" + std::to_string(c) + " ";
  report("tagging: %zu messages, %zu tagged on alpha->mix and %zu on mix->beta (%s); dropped_auth "
         "mix %llu, beta %llu; delivered %zu, tagged delivered %zu, altered %zu, untouched missing "
         "%zu",
         n, tagged_first, tagged_second, regions.c_str(),
         static_cast<unsigned long long>(count(mix_m, "packets_dropped_auth")),
         static_cast<unsigned long long>(count(beta_m, "packets_dropped_auth")), delivered.size(),
         tagged_delivered, altered, untouched_missing);
  BOOST_CHECK_EQUAL(count(mix_m, "packets_dropped_auth"), tagged_first);
  BOOST_CHECK_EQUAL(count(beta_m, "packets_dropped_auth"), tagged_second);
  BOOST_CHECK_EQUAL(count(mix_m, "packets_dropped_malformed") + count(beta_m, "packets_dropped_malformed"), 0u);
  BOOST_CHECK_EQUAL(count(beta_m, "deliveries_dropped_malformed"), 0u);
  BOOST_CHECK_EQUAL(tagged_delivered, 0u);
  BOOST_CHECK_EQUAL(altered, 0u);
  BOOST_CHECK_EQUAL(untouched_missing, 0u);
  BOOST_CHECK_EQUAL(duplicates, 0u);
  BOOST_CHECK_EQUAL(d.beta_delivery_count(), expected);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace veil::privacy
