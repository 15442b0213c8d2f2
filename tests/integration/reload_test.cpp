// SIGHUP on real relays: a new mix applies at once without losing, duplicating or disconnecting
// anything (packets pooled before keep their release times, new ones follow the new mix); a
// config that fails --check is refused whole and the old one stays; a change that needs a restart
// is reported as such; the log level changes on reload.
#include <boost/test/unit_test.hpp>

#include <fstream>
#include <iterator>
#include <string>
#include <thread>

#include "harness.h"
#include "proxy/sim/admin_client.h"

namespace veil::it {
namespace {

using namespace std::chrono_literals;

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

double scrape_value(sim::RelayProcess& r, const std::string& series) {
  const sim::HttpReply reply = sim::http_get(r.admin_port(), "/metrics");
  const auto v = sim::sample_value(reply.body, series);
  return v ? *v : -1;
}

void send(Submitter& s, Deployment& net, std::size_t from, std::size_t n) {
  for (std::size_t i = from; i < from + n; ++i) {
    BOOST_REQUIRE(s.send(v1_submission(net.alpha.accounts[i % 4], net.beta.accounts[i % 6], i, net.rng)));
  }
  BOOST_REQUIRE(s.wait_answers(10s));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(reload)

BOOST_AUTO_TEST_CASE(a_new_mix_applies_live_and_a_bad_config_is_refused_whole) {
  Deployment net("reload", nlohmann::json::object(), /*with_mix=*/false);
  net.configure(kAlpha, {{"mix", {{"strategy", "poisson"}, {"mean_delay_ms", 4000}}}});
  net.start();
  sim::RelayProcess& alpha = net.relay(kAlpha);
  Submitter submitter(net.submit_port());  // one connection for the whole test

  // Batch A under Poisson with a 4 s mean: most of it is still pooled after the reload.
  send(submitter, net, 0, 20);
  BOOST_TEST(wait_until(3s, [&] { return scrape_value(alpha, "veil_mix_pool_packets") >= 1; }));
  net.reload(kAlpha, {{"mix", {{"strategy", "none"}}}});
  BOOST_REQUIRE(wait_until(5s, [&] { return alpha.output().find("\"result\":\"applied\"") != std::string::npos; }));
  BOOST_TEST(alpha.output().find("{\"changed\":[\"mix\"],\"event\":\"reload\",\"needs_restart\":[]") !=
             std::string::npos, alpha.output());
  // The reload flushed nothing: most of batch A is still pooled (each packet leaves within the
  // half second since its submission with probability 1 - e^-1/8, all 20 with about 1e-18).
  const double pooled_after_reload = scrape_value(alpha, "veil_mix_pool_packets");
  BOOST_TEST(pooled_after_reload >= 1);

  // Batch B under the new mix: delivered at once, while batch A keeps its own release times.
  send(submitter, net, 20, 20);
  BOOST_TEST(wait_until(3s, [&] {
    for (std::size_t n = 20; n < 40; ++n) {
      if (!net.beta_inbox().has(n, net.beta.accounts[n % 6].uuid)) return false;
    }
    return true;
  }));
  BOOST_TEST(scrape_value(alpha, "veil_config_reloads_total{result=\"applied\"}") == 1);

  // The full config with one bad key (an unknown mix strategy) and a cover rate that alone would
  // apply: refused whole; the running mix stays (none) and no drop cover starts.
  net.reload(kAlpha, {{"mix", {{"strategy", "bogus"}}}, {"cover", {{"drop_rate", 50}}}});
  BOOST_REQUIRE(wait_until(5s, [&] { return alpha.output().find("\"result\":\"refused\"") != std::string::npos; }));
  BOOST_TEST(alpha.output().find("\"problems\":[\"mix.strategy: unknown strategy \\\"bogus\\\" (one of none, "
                                 "threshold, timed, threshold_or_timed, binomial, poisson)\"]") != std::string::npos,
             alpha.output());  // the only problem
  BOOST_TEST(scrape_value(alpha, "veil_config_reloads_total{result=\"refused\"}") == 1);
  net.configure(kAlpha, {{"mix", {{"strategy", "none"}}}, {"cover", {{"drop_rate", nullptr}}}});  // as running
  std::this_thread::sleep_for(1s);  // at 50/s, about 50 drop covers had the rate applied
  BOOST_TEST(scrape_value(alpha, "veil_cover_sent_total{kind=\"drop\"}") == 0);
  send(submitter, net, 40, 10);
  BOOST_TEST(wait_until(3s, [&] {
    for (std::size_t n = 40; n < 50; ++n) {
      if (!net.beta_inbox().has(n, net.beta.accounts[n % 6].uuid)) return false;
    }
    return true;
  }));

  // A change only a restart can apply is reported, and the rest of the file applies.
  net.reload(kAlpha, {{"packet_size", 8192}, {"cover", {{"drop_rate", 5}}}});
  BOOST_REQUIRE(wait_until(5s, [&] { return count(alpha.output(), "\"result\":\"applied\"") == 2; }));
  BOOST_TEST(alpha.output().find("{\"changed\":[\"cover rates\"],\"event\":\"reload\",\"needs_restart\":[\"packet_size\"]") !=
             std::string::npos, alpha.output());
  BOOST_TEST(wait_until(5s, [&] { return scrape_value(alpha, "veil_cover_sent_total{kind=\"drop\"}") >= 3; }));

  // Everything arrives once: nothing lost, nothing duplicated, no connection dropped.
  // Batch A's last packet leaves at its Poisson release time: the largest of 20 delays of mean
  // 4 s is over 30 s in about one run of 90, over 60 s in one of about 160,000.
  if (!wait_until(60s, [&] { return net.beta_inbox().distinct() >= 50; })) {
    std::string missing;
    for (std::size_t n = 0; n < 50; ++n) {
      if (!net.beta_inbox().has(n, net.beta.accounts[n % 6].uuid)) missing += " " + std::to_string(n);
    }
    BOOST_FAIL("delivered " << net.beta_inbox().distinct() << " of 50; missing" << missing << "\nrelay-alpha: "
                            << alpha.metrics().dump() << "\nrelay-beta: " << net.relay(kBeta).metrics().dump()
                            << "\nrelay-alpha's output: " << alpha.output());
  }
  BOOST_TEST(submitter.accepted().size() == 50u);
  BOOST_TEST(net.beta_inbox().duplicate_frames() == 0u);
  BOOST_TEST(net.beta_inbox().problems().empty(), describe(net.beta_inbox().problems()));
  BOOST_TEST(scrape_value(alpha, "veil_peer_link_disconnects_total{peer=\"relay-beta\"}") == 0);
  BOOST_TEST(scrape_value(alpha, "veil_peer_link_connects_total{peer=\"relay-beta\"}") == 1);
  BOOST_TEST(scrape_value(alpha, "veil_submit_connections_total") == 1);
  // The log says both, as JSON lines.
  std::ifstream log(net.dir() / (std::string(kAlpha) + ".log"));
  const std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  BOOST_TEST(text.find("\"msg\":\"reload applied\"") != std::string::npos, text);
  BOOST_TEST(text.find("\"msg\":\"reload refused: the running config stays\"") != std::string::npos, text);
}

// log_level changes on reload: at "error" an applied reload is said on stdout but not in the log;
// back at "info" the log says it again.
BOOST_AUTO_TEST_CASE(the_log_level_changes_on_reload) {
  Deployment net("reload-log", nlohmann::json::object(), /*with_mix=*/false);
  net.start(kAlpha);
  sim::RelayProcess& alpha = net.relay(kAlpha);
  const auto logged = [&](const std::string& msg) {
    std::ifstream f(net.dir() / (std::string(kAlpha) + ".log"));
    std::size_t n = 0;
    for (std::string line; std::getline(f, line);) {
      const nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
      n += j.is_object() && j.value("msg", "") == msg;
    }
    return n;
  };
  BOOST_REQUIRE(wait_until(5s, [&] { return logged("ready") == 1u; }));  // logged just after the event
  net.reload(kAlpha, {{"log_level", "error"}});
  BOOST_REQUIRE(wait_until(5s, [&] { return count(alpha.output(), "\"result\":\"applied\"") == 1; }));
  net.reload(kAlpha, {{"cover", {{"drop_rate", 1}}}});
  BOOST_REQUIRE(wait_until(5s, [&] { return count(alpha.output(), "\"result\":\"applied\"") == 2; }));
  BOOST_TEST(logged("reload applied") == 0u);  // both said at "error"
  net.reload(kAlpha, {{"log_level", "info"}});
  BOOST_REQUIRE(wait_until(5s, [&] { return count(alpha.output(), "\"result\":\"applied\"") == 3; }));
  BOOST_TEST(wait_until(3s, [&] { return logged("reload applied") == 1u; }));
  std::ifstream f(net.dir() / (std::string(kAlpha) + ".log"));
  std::string last;
  for (std::string line; std::getline(f, line);) {
    if (line.find("\"msg\":\"reload applied\"") != std::string::npos) last = line;
  }
  const nlohmann::json j = nlohmann::json::parse(last, nullptr, false);
  BOOST_TEST(j.value("msg", "") == "reload applied", last);
  BOOST_TEST(j.value("log_level", "") == "info", last);
  BOOST_TEST((j.contains("changed") && j["changed"] == nlohmann::json::array({"log_level"})), last);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace veil::it
