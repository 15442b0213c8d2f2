// Cover traffic: on the wire, cover packets (drop and loop) and real packets are indistinguishable
// by size and by byte-level tests that hold no keys; covers never reach a messenger server.
#include <boost/test/unit_test.hpp>

#include <cmath>

#include "stats.h"
#include "support.h"

namespace veil::privacy {
namespace {

constexpr std::size_t kPacket = 1024;

struct Capture {
  std::vector<Bytes> first;   // alpha -> mix-1 (pairwise layer)
  std::vector<Bytes> second;  // mix-1 -> beta (onion layer)
  std::size_t odd_frames = 0; // frames of another size
  uint64_t alpha_delivered = 0, beta_delivered = 0;
  nlohmann::json alpha_metrics, beta_metrics;
};

// One phase: covers only (no submissions) or real only (covers off). Same topology and mixing.
Capture phase(bool covers, std::size_t want, uint64_t seed) {
  Spec spec;
  spec.mixes = 1;
  spec.seed = seed;
  spec.common = {{"mix_hops", 1},
                 {"packet_size", kPacket},
                 {"mix", {{"strategy", "poisson"}, {"mean_delay_ms", 2}}},
                 {"cover", {{"drop_rate", 0}, {"loop_rate", 0}}}};
  if (covers) spec.alpha = {{"cover", {{"drop_rate", 250}, {"loop_rate", 250}}}};
  Deployment d(spec, covers ? "cover-covers" : "cover-real");
  sim::Tap& first = d.tap(kAlpha, "mix-1", true);
  sim::Tap& second = d.tap("mix-1", kBeta, true);
  d.start();
  if (covers) {
    BOOST_REQUIRE(wait_until(Millis(20'000), [&] {
      return first.packet_count() >= want && second.packet_count() >= want / 3;
    }));
  } else {
    sim::SubmitClient client(d.submit_port(), nullptr);
    const auto& beta = d.beta.accounts;
    for (std::size_t i = 0; i < want; ++i) {
      const std::string content = "real packet " + std::to_string(i);
      BOOST_REQUIRE(client.send(v1_submission(d.alpha.accounts[0], beta[i % beta.size()],
                                              as_bytes(content), d.rng, i)));
    }
    client.finish();
    BOOST_REQUIRE(wait_until(Millis(20'000), [&] { return d.beta_delivery_count() >= want; }));
  }
  std::this_thread::sleep_for(Millis(300));
  Capture c;
  c.alpha_metrics = d.metrics(kAlpha);
  c.beta_metrics = d.metrics(kBeta);
  d.stop();
  c.alpha_metrics = d.metrics(kAlpha);  // final snapshot, written at exit
  c.beta_metrics = d.metrics(kBeta);
  for (auto [tap, out] : {std::pair{&first, &c.first}, std::pair{&second, &c.second}}) {
    for (auto& p : tap->packets()) {
      if (p.frame_size != 9 + kPacket || p.packet.size() != kPacket) ++c.odd_frames;
      else out->push_back(std::move(p.packet));
    }
  }
  c.alpha_delivered = d.alpha_server().frames();
  c.beta_delivered = d.beta_server().frames();
  return c;
}

uint64_t counter(const nlohmann::json& m, const char* name) {
  return m["counters"][name].get<uint64_t>();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(cover)

// Ground truth from two phases of the same deployment shape: covers only vs real only.
// Keyless tests on each link's two populations (false-alarm budget 1e-3 in total, Bonferroni):
//  - per byte position, the difference of mean byte values, z against a uniform byte's variance;
//    fail if max |z| over the P positions exceeds z* with 2 P Phi(-z*) = 1e-4 per link (normal
//    tails over-state the tails of a mean of >= 100 bounded bytes, so this is conservative);
//  - per bit position, the pooled two-proportion z of the frequency of ones (a one-bit "cover"
//    flag moves a byte mean too little to show above); max over 8P bits, 2 (8P) Phi(-z*) = 1e-4
//    per link (binomial tails at p = 1/2 are lighter than normal: conservative);
//  - per region (head, tag, routing, body, tail), a 2 x 256 chi-square on byte-value counts, fail
//    at p < 2e-5 (5 regions x 2e-5 = 1e-4 per link).
// Per link 3e-4; two links 6e-4 < 1e-3. tests/privacy/detectors_test.cpp shows each one firing
// on planted structure.
BOOST_AUTO_TEST_CASE(covers_indistinguishable_and_never_delivered) {
  Watchdog guard(90);
  const std::size_t want = 400;
  const Capture cov = phase(true, want, 801);
  const Capture real = phase(false, want, 802);

  // Covers never reach a messenger server; they did flow and were consumed by the relays.
  report("cover: covers phase: alpha sent drop %llu loop %llu; beta received drop covers %llu; "
         "alpha loops back %llu; messenger servers got %llu + %llu frames",
         static_cast<unsigned long long>(counter(cov.alpha_metrics, "cover_drop_sent")),
         static_cast<unsigned long long>(counter(cov.alpha_metrics, "cover_loop_sent")),
         static_cast<unsigned long long>(counter(cov.beta_metrics, "cover_drop_received")),
         static_cast<unsigned long long>(counter(cov.alpha_metrics, "cover_loop_returned")),
         static_cast<unsigned long long>(cov.alpha_delivered),
         static_cast<unsigned long long>(cov.beta_delivered));
  BOOST_CHECK_EQUAL(cov.alpha_delivered + cov.beta_delivered, 0u);
  BOOST_CHECK_EQUAL(counter(cov.alpha_metrics, "deliveries_sent") + counter(cov.beta_metrics, "deliveries_sent"), 0u);
  BOOST_CHECK_GT(counter(cov.beta_metrics, "cover_drop_received"), 0u);
  BOOST_CHECK_GT(counter(cov.alpha_metrics, "cover_loop_returned"), 0u);
  BOOST_CHECK_EQUAL(real.beta_delivered, want);

  // Size: every frame of both phases has the packet size.
  BOOST_CHECK_EQUAL(cov.odd_frames + real.odd_frames, 0u);

  const std::vector<stats::Region> regions = {{"head", 0, 32},
                                              {"tag", 32, 48},
                                              {"routing", 48, 80},
                                              {"body", 80, kPacket - 80},
                                              {"tail", kPacket - 80, kPacket}};
  // z* with 2 * P * Phi(-z*) = 1e-4 (byte means) and 2 * 8P * Phi(-z*) = 1e-4 (bits).
  double z_star = 4, zb_star = 4;
  while (2.0 * kPacket * stats::normal_sf(z_star) > 1e-4) z_star += 0.001;
  while (2.0 * 8 * kPacket * stats::normal_sf(zb_star) > 1e-4) zb_star += 0.001;
  for (const auto& [name, a, b] : {std::tuple{"alpha->mix", &cov.first, &real.first},
                                   std::tuple{"mix->beta", &cov.second, &real.second}}) {
    BOOST_REQUIRE_GE(a->size(), 100u);
    BOOST_REQUIRE_GE(b->size(), 100u);
    const auto r = stats::compare_populations(*a, *b, regions);
    std::string per_region;
    for (std::size_t i = 0; i < regions.size(); ++i) {
      char buf[96];
      std::snprintf(buf, sizeof buf, "%s chi2 %.1f p %.3f; ", regions[i].name.c_str(), r.region_chi2[i],
                    r.region_p[i]);
      per_region += buf;
      BOOST_CHECK_MESSAGE(r.region_p[i] >= 2e-5, name << " " << regions[i].name << ": byte values of covers and real "
                                                        "packets differ, p = " << r.region_p[i]);
    }
    report("cover: %s: %zu cover vs %zu real packets; max |z| of per-position means %.2f at byte "
           "%zu (fail above %.2f), of per-bit proportions %.2f at bit %zu (fail above %.2f); %s",
           name, a->size(), b->size(), r.max_abs_z, r.argmax, z_star, r.max_abs_bit_z,
           r.bit_argmax, zb_star, per_region.c_str());
    BOOST_CHECK_LE(r.max_abs_z, z_star);
    BOOST_CHECK_LE(r.max_abs_bit_z, zb_star);
  }
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace veil::privacy
