// n-1 / blocking attacks: an active attacker on a link drops or delays packets (to isolate a
// target it must hold back the rest of the traffic, and cannot tell loop covers apart); the
// relay's loop covers go missing or come back late, the loop loss or latency crosses the alarm
// threshold, gauges.loop_alarm turns true and the log warns. Undisturbed, the alarm stays false.
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <exception>
#include <fstream>
#include <functional>

#include "support.h"

namespace veil::privacy {
namespace {

constexpr double kLoopRate = 25;        // loops per second
constexpr int kLoopTimeoutMs = 1500;     // a loop not back by then is lost
constexpr double kAlarmLoss = 0.2;
constexpr int kAlarmLatencyMs = 750;

enum class Attack { none, drop, delay };

struct Observed {
  bool alarm_before = false;     // alarm seen during the undisturbed warm-up
  bool alarm_after = false;      // alarm seen after the attack started
  double seconds_to_alarm = -1;  // from the start of the attack
  uint64_t sent = 0, returned = 0, lost = 0;
  double latency_max_ms = 0, latency_p99_ms = 0;
  std::size_t samples = 0;
  std::size_t alarm_log_lines = 0;  // relay-alpha's "loop_alarm_raised" warnings, with their figures
};

// relay-alpha sends loop covers via relay-beta (mix_hops 0: alpha -> beta -> alpha); the tap on
// alpha -> beta is the attacker. Warm-up `warm` undisturbed, then the attack for up to `attack`
// (a control run just continues undisturbed for the same time).
Observed run(Attack attack, Millis warm, Millis attack_for, uint64_t seed) {
  Spec spec;
  spec.seed = seed;
  spec.common = {{"mix_hops", 0},
                 {"packet_size", 1024},
                 {"mix", {{"strategy", "none"}}},
                 {"cover", {{"drop_rate", 0}, {"loop_rate", 0}}}};
  spec.alpha = {{"cover",
                 {{"loop_rate", kLoopRate},
                  {"loop_timeout_ms", kLoopTimeoutMs},
                  {"alarm_loss", kAlarmLoss},
                  {"alarm_latency_ms", kAlarmLatencyMs}}}};
  Deployment d(spec, "loops");
  sim::Tap& link = d.tap(kAlpha, kBeta, false);
  d.start();
  Observed o;
  auto sample = [&] {
    const auto m = d.metrics(kAlpha);
    ++o.samples;
    return m.contains("gauges") && m["gauges"]["loop_alarm"].get<bool>();
  };
  const auto t0 = Clock::now();
  while (Clock::now() - t0 < warm) {
    o.alarm_before |= sample();
    std::this_thread::sleep_for(Millis(50));
  }
  if (attack == Attack::drop) {
    link.set_filter([](const Bytes&) { return false; });  // hold back everything
  } else if (attack == Attack::delay) {
    // Every packet waits 1 s before it is forwarded (the link then runs at one packet per second).
    link.set_filter([](const Bytes&) {
      std::this_thread::sleep_for(Millis(1000));
      return true;
    });
  }
  const auto t1 = Clock::now();
  while (Clock::now() - t1 < attack_for) {
    if (sample()) {
      o.alarm_after = true;
      o.seconds_to_alarm = secs(t1, Clock::now());
      if (attack != Attack::none) break;
    }
    std::this_thread::sleep_for(Millis(50));
  }
  const auto m = d.metrics(kAlpha);
  link.set_filter(nullptr);
  d.stop();
  std::ifstream log(d.dir() / (std::string(kAlpha) + ".log"));
  for (std::string line; std::getline(log, line);) {
    const nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_object() && j.value("msg", "") == "loop_alarm_raised" && j.value("level", "") == "warn" &&
        j.contains("loop_loss_ratio") && j.contains("loop_latency_p99_ms")) {
      ++o.alarm_log_lines;
    }
  }
  o.sent = m["counters"]["cover_loop_sent"].get<uint64_t>();
  o.returned = m["counters"]["cover_loop_returned"].get<uint64_t>();
  o.lost = m["counters"]["cover_loop_lost"].get<uint64_t>();
  o.latency_max_ms = m["loop_latency_us"]["max"].get<double>() / 1000;
  o.latency_p99_ms = m["loop_latency_us"]["p99"].get<double>() / 1000;
  return o;
}

void show(const char* what, const Observed& o) {
  report("loop_alarm: %-8s alarm during warm-up %s, after %s (%.2f s into the attack); loops sent "
         "%llu returned %llu lost %llu (loss %.2f); latency p99 <= %.1f ms, max %.1f ms; %zu samples; "
         "%zu alarm lines in the log",
         what, o.alarm_before ? "yes" : "no", o.alarm_after ? "yes" : "no", o.seconds_to_alarm,
         static_cast<unsigned long long>(o.sent), static_cast<unsigned long long>(o.returned),
         static_cast<unsigned long long>(o.lost),
         o.lost + o.returned ? static_cast<double>(o.lost) / static_cast<double>(o.lost + o.returned) : 0.0,
         o.latency_p99_ms, o.latency_max_ms, o.samples, o.alarm_log_lines);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(loop_alarm)

// Three deployments side by side: control, drop attack, delay attack. Not statistical: on an
// undisturbed loopback link a loop returns in milliseconds (the slowest are the first few, sent
// before the peer link was up: < 70 ms observed), so the control can only raise the alarm if the
// machine stalls a relay for more than 0.75 s (the latency threshold) or 1.5 s (a loss).
BOOST_AUTO_TEST_CASE(blocking_and_delaying_raise_alarm_control_does_not) {
  Watchdog guard(90);
  const Millis warm(2000), attack(6000);
  Observed control, dropped, delayed;
  // Failures inside a thread come back to this one (a BOOST_REQUIRE there would terminate).
  std::exception_ptr errors[3];
  auto guarded = [](std::exception_ptr& err, const std::function<void()>& f) {
    return std::thread([&err, f] {
      try {
        f();
      } catch (...) {
        err = std::current_exception();
      }
    });
  };
  std::thread t1 = guarded(errors[0], [&] { control = run(Attack::none, warm, Millis(4000), 901); });
  std::thread t2 = guarded(errors[1], [&] { dropped = run(Attack::drop, warm, attack, 902); });
  std::thread t3 = guarded(errors[2], [&] { delayed = run(Attack::delay, warm, attack, 903); });
  t1.join();
  t2.join();
  t3.join();
  for (auto& e : errors) {
    if (e) std::rethrow_exception(e);
  }
  show("control", control);
  show("drop", dropped);
  show("delay", delayed);

  BOOST_CHECK(!control.alarm_before && !control.alarm_after);
  BOOST_CHECK_EQUAL(control.alarm_log_lines, 0u);
  BOOST_CHECK_GT(control.returned, 50u);
  BOOST_CHECK_EQUAL(control.lost, 0u);
  BOOST_CHECK_LE(control.latency_max_ms, kAlarmLatencyMs);

  BOOST_CHECK(!dropped.alarm_before);
  BOOST_CHECK(dropped.alarm_after);
  BOOST_CHECK_GE(dropped.alarm_log_lines, 1u);  // the operator's log says it too
  BOOST_CHECK_GT(dropped.lost, 0u);
  // The gauge agrees with the counters: the window (>= 30 s) holds every loop of this run.
  BOOST_CHECK_GT(static_cast<double>(dropped.lost) / static_cast<double>(dropped.lost + dropped.returned),
                 kAlarmLoss);

  BOOST_CHECK(!delayed.alarm_before);
  BOOST_CHECK(delayed.alarm_after);
  BOOST_CHECK_GE(delayed.alarm_log_lines, 1u);
  BOOST_CHECK_GT(delayed.latency_max_ms, kAlarmLatencyMs);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace veil::privacy
