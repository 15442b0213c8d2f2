// A threshold mix under observation (see threshold_run.h).
#include "threshold_run.h"

#include <boost/test/unit_test.hpp>

#include <map>

#include "support.h"

namespace veil::privacy {

ThresholdRun run_threshold_mix(int k, std::size_t batches, uint64_t seed) {
  ThresholdRun run;
  const auto t0 = Clock::now();
  Spec spec;
  spec.seed = seed;
  spec.common = {{"mix_hops", 0}, {"packet_size", 1024}, {"cover", {{"drop_rate", 0}, {"loop_rate", 0}}}};
  spec.alpha = {{"mix", {{"strategy", "threshold"}, {"threshold", k}}}};
  spec.beta = {{"mix", {{"strategy", "none"}}}};
  Deployment d(spec, "threshold");
  sim::Tap& egress = d.tap(kAlpha, kBeta, true);
  // Sealing is done before the clock starts, so inputs of a batch follow each other closely.
  const std::size_t total = batches * static_cast<std::size_t>(k);
  std::vector<veil::relay::Submission> subs;
  std::map<std::string, std::size_t> by_envelope;
  const auto& alice = d.alpha.accounts[0];
  const auto& beta = d.beta.accounts;
  for (std::size_t i = 0; i < total; ++i) {
    const std::string content = "batch input " + std::to_string(i);
    subs.push_back(v1_submission(alice, beta[i % beta.size()], as_bytes(content), d.rng, i));
    by_envelope[subs.back().envelope()] = i;
  }
  BOOST_REQUIRE_EQUAL(by_envelope.size(), total);
  d.start();

  std::vector<Clock::time_point> t_in(total);
  Submitter sub(d.submit_port());
  for (std::size_t b = 0; b < batches; ++b) {
    for (int j = 0; j < k; ++j) {
      const std::size_t i = b * static_cast<std::size_t>(k) + static_cast<std::size_t>(j);
      t_in[i] = Clock::now();
      const auto a = sub.submit(subs[i]);
      BOOST_REQUIRE_EQUAL(a.status(), veil::relay::SubmitAnswer::ACCEPTED);
    }
    const std::size_t want = (b + 1) * static_cast<std::size_t>(k);
    BOOST_REQUIRE_MESSAGE(wait_until(Millis(5000), [&] { return egress.packet_count() >= want; },
                                     Millis(1)),
                          "flush " << b << " did not leave alpha");
  }
  BOOST_REQUIRE(wait_until(Millis(10'000), [&] { return d.beta_delivery_count() >= total; }));
  const auto packets = egress.packets();
  run.seconds = secs(t0, Clock::now());
  d.stop();
  BOOST_REQUIRE_EQUAL(d.beta_delivery_count(), total);
  BOOST_REQUIRE_EQUAL(packets.size(), total);  // no covers, no duplicates

  // Ground truth of each output.
  std::vector<std::size_t> truth(packets.size());
  for (std::size_t o = 0; o < packets.size(); ++o) {
    const Peeled p = peel(d, packets[o].packet, kAlpha, kBeta);
    auto it = p.ok ? by_envelope.find(p.envelope) : by_envelope.end();
    if (it == by_envelope.end()) {
      ++run.unpeeled;
      truth[o] = total;
    } else {
      truth[o] = it->second;
    }
  }
  // The adversary's view: flushes are the consecutive k outputs; a flush's candidates are the
  // inputs sent before its first output and not already used by an earlier flush.
  std::size_t used = 0;
  double spread = 0;
  for (std::size_t c = 0; c < batches; ++c) {
    const std::size_t first = c * static_cast<std::size_t>(k);
    const auto t_out = packets[first].at;
    std::size_t before = used;
    while (before < total && t_in[before] < t_out) ++before;
    if (before - used != static_cast<std::size_t>(k)) ++run.candidate_mismatches;
    stats::Flush f;
    for (int j = 0; j < k; ++j) {
      const std::size_t t = truth[first + static_cast<std::size_t>(j)];
      if (t < used || t >= used + static_cast<std::size_t>(k)) {
        ++run.outside_batch;
        f.push_back(0);
      } else {
        f.push_back(static_cast<int>(t - used));
      }
    }
    spread += secs(packets[first].at, packets[first + static_cast<std::size_t>(k) - 1].at) * 1e6;
    run.flushes.push_back(std::move(f));
    used = before;
  }
  run.inputs = total;
  run.outputs = packets.size();
  run.mean_flush_spread_us = spread / static_cast<double>(batches);
  return run;
}

}  // namespace veil::privacy
