// Size leakage: every packet on every peer link has exactly the configured size, whatever the
// size of the message inside — swept over every content size from 1 B up to the path's capacity,
// SSv1 and SSv2 — and the capacity boundary is exact (a payload that fits is accepted, one byte
// more is rejected as too_large, never cut or sent in a bigger packet).
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <map>

#include "stats.h"
#include "support.h"

namespace veil::privacy {
namespace {

// The deliver payload the relay builds from a submission (the submit stage rebuilds it from named fields).
std::size_t payload_size(const veil::relay::Submission& s) {
  veil::relay::Payload p;
  auto* b = p.mutable_bundle();
  if ((static_cast<uint8_t>(s.envelope()[0]) >> 4) <= 1) {
    *b->add_recipients() = s.recipients(0);
  }
  b->set_access_key(s.access_key());
  b->set_envelope(s.envelope());
  return p.ByteSizeLong();
}

struct SweepResult {
  std::size_t accepted_v1 = 0, accepted_v2 = 0, rejected = 0;
  std::size_t max_content_v1 = 0, max_content_v2 = 0;
  std::size_t max_payload = 0;  // largest accepted deliver payload
  std::size_t capacity = 0;
};

// Sweeps content sizes 1, 1 + stride, ... until three payloads in a row exceed the capacity;
// for stride > 1 every size within 4 of the boundary is sent too. Checks acceptance against the
// computed payload size. Deliveries are counted by the caller.
SweepResult sweep(Deployment& d, std::size_t packet_size, std::size_t hops, std::size_t stride,
                  std::size_t& expected_deliveries) {
  SweepResult r;
  const std::size_t capacity = crypto::payload_capacity(packet_size, hops);
  r.capacity = capacity;
  const auto& alice = d.alpha.accounts[0];
  const auto& beta = d.beta.accounts;
  Submitter sub(d.submit_port());
  uint64_t id = 0;
  for (int version : {1, 2}) {
    // Content size at which the payload first exceeds the capacity (found by the probe below).
    auto build = [&](std::size_t len) {
      const std::string content(len, static_cast<char>('a' + len % 26));
      if (version == 1) return v1_submission(alice, beta[len % beta.size()], as_bytes(content), d.rng, id);
      std::vector<const sim::Account*> to{&beta[0], &beta[1]};
      return v2_submission(alice, to, as_bytes(content), d.rng, id);
    };
    std::size_t over_in_a_row = 0;
    for (std::size_t len = 1; over_in_a_row < 3 && len < 70'000;) {
      const auto s = build(len);
      const bool fits = payload_size(s) <= capacity;
      const auto a = sub.submit(s);
      ++id;
      if (fits) {
        BOOST_CHECK_MESSAGE(a.status() == veil::relay::SubmitAnswer::ACCEPTED,
                            "SSv" << version << " content " << len << " B fits but: " << a.reason());
        if (a.status() == veil::relay::SubmitAnswer::ACCEPTED) {
          (version == 1 ? r.accepted_v1 : r.accepted_v2) += 1;
          expected_deliveries += version == 1 ? 1 : 2;
          (version == 1 ? r.max_content_v1 : r.max_content_v2) = len;
          r.max_payload = std::max(r.max_payload, payload_size(s));
        }
        over_in_a_row = 0;
      } else {
        BOOST_CHECK_MESSAGE(a.status() == veil::relay::SubmitAnswer::REJECTED && a.reason() == "too_large",
                            "SSv" << version << " content " << len << " B is over capacity but: "
                                  << a.status() << " " << a.reason());
        ++r.rejected;
        ++over_in_a_row;
      }
      if (stride == 1 || over_in_a_row > 0) {
        ++len;
      } else {
        // Strided, but step singly through the last stride before the boundary.
        const auto next = build(len + stride);
        len += payload_size(next) <= capacity ? stride : 1;
      }
    }
  }
  return r;
}

void run(std::size_t packet_size, std::size_t stride, uint64_t seed) {
  Spec spec;
  spec.mixes = 1;
  spec.seed = seed;
  spec.common = {{"mix_hops", 1},
                 {"packet_size", packet_size},
                 {"mix", {{"strategy", "none"}}},
                 {"cover", {{"drop_rate", 10}, {"loop_rate", 10}}}};
  Deployment d(spec, "size");
  d.tap_all(false);
  d.start();
  std::size_t expected = 0;
  const SweepResult r = sweep(d, packet_size, 2, stride, expected);
  BOOST_REQUIRE(wait_until(Millis(30'000), [&] { return d.beta_delivery_count() >= expected; }));
  std::this_thread::sleep_for(Millis(200));
  d.stop();
  BOOST_CHECK_EQUAL(d.beta_delivery_count(), expected);

  std::map<std::size_t, std::size_t> sizes;  // frame size -> count, all links
  std::size_t total = 0;
  for (const auto& [ends, tap] : d.links()) {
    for (const auto& p : tap->packets()) {
      ++sizes[p.frame_size];
      ++total;
    }
  }
  const std::size_t want = 9 + packet_size;  // type, sequence number, packet
  std::string seen;
  for (const auto& [size, n] : sizes) seen += std::to_string(size) + "x" + std::to_string(n) + " ";
  report("size P=%zu: SSv1 %zu accepted (content 1..%zu B), SSv2 %zu accepted (content 1..%zu B), "
         "%zu rejected too_large; largest payload %zu of capacity %zu; %zu packet frames on %zu "
         "links, sizes: %s",
         packet_size, r.accepted_v1, r.max_content_v1, r.accepted_v2, r.max_content_v2, r.rejected,
         r.max_payload, r.capacity,
         total, d.links().size(), seen.c_str());
  BOOST_CHECK_EQUAL(sizes.size(), 1u);
  BOOST_CHECK_EQUAL(sizes.begin()->first, want);
  // Every accepted message crossed alpha -> mix -> beta once each (plus covers).
  const std::size_t real = r.accepted_v1 + r.accepted_v2;
  BOOST_CHECK_GE(d.link(kAlpha, "mix-1")->packet_count(), real);
  BOOST_CHECK_GE(d.link("mix-1", kBeta)->packet_count(), real);
  BOOST_CHECK_GT(r.accepted_v1, 0u);
  BOOST_CHECK_GT(r.accepted_v2, 0u);
  BOOST_CHECK_GE(r.rejected, 6u);  // the boundary was crossed for both versions
  BOOST_CHECK_GE(r.max_payload + 2, r.capacity);  // swept up to the capacity (varint steps: +-2)
}

}  // namespace

BOOST_AUTO_TEST_SUITE(size)

// Deterministic (no statistics): any packet frame of another size fails.
BOOST_AUTO_TEST_CASE(every_content_size_small_packets) {
  Watchdog guard(90);
  run(1024, 1, 201);  // every content size from 1 B to the capacity of a 2-hop 1 KiB packet
}

BOOST_AUTO_TEST_CASE(strided_sweep_default_packets) {
  Watchdog guard(90);
  run(4096, 37, 202);  // default 4 KiB packets: every 37th size, then every size near capacity
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace veil::privacy
