// Epochs in process: relays switch keys on the schedule under traffic and lose nothing; a layer
// names its epoch, so a sender whose clock runs ahead still gets through; a packet of a wiped epoch
// is refused and counted; the replay cache is kept per epoch and dropped with its key; a relay
// with no key for the current epoch does not start.
#include <boost/test/unit_test.hpp>
#include <algorithm>
#include <map>
#include <set>
#include <stdexcept>

#include "crypto/packet_layer.h"
#include "proxy/relay/core/link_frame.h"
#include "support.h"

namespace veil::relay_test {
namespace {

constexpr Micros kSecond = 1'000'000;
constexpr Micros kLength = 60 * kSecond;
constexpr Micros kOverlap = 20 * kSecond;

// Epoch 0 began one second before the world's clock start.
relay::EpochTiming timing(const sim::InProcessWorld& w, Micros ahead = 0) {
  return relay::EpochTiming{w.clock.wall_us() - kSecond - ahead, kLength, kOverlap, 0};
}

// Epoch k of timing(w) starts at clock time k * kLength. Advances `w` to `into` µs after that.
void advance_to(sim::InProcessWorld& w, uint64_t e, Micros into) {
  const Micros target = static_cast<Micros>(e) * kLength + into;
  BOOST_REQUIRE(target >= w.clock.now());
  w.advance(target - w.clock.now());
}

// Time as a relay on a real loop sees it around a timer: a timer due more than 100 µs ahead fires
// 100 µs early (a millisecond timer on a loop's cached time can), and time moves on while the
// callback runs: each wall clock reading in it after the first is 150 µs later than the one before
// (the relay's monotonic time moves with it).
class EarlyTimerClock final : public Clock {
 public:
  explicit EarlyTimerClock(ManualClock& base) : base_(base) {}
  Micros now() const override { return base_.now() + moved_; }
  int64_t wall_us() const override {
    if (in_callback_ && reads_++ > 0) moved_ += 150;
    return base_.wall_us() + moved_;
  }
  std::unique_ptr<Timer> timer(std::function<void()> fire) override {
    return std::make_unique<EarlyTimer>(*this, std::move(fire));
  }
  uint64_t early_firings() const { return early_firings_; }

 private:
  class EarlyTimer final : public Timer {
   public:
    EarlyTimer(EarlyTimerClock& c, std::function<void()> fire) : c_(c), fire_(std::move(fire)) {
      inner_ = c.base_.timer([this] {
        if (early_) ++c_.early_firings_;
        c_.in_callback_ = true;
        c_.reads_ = 0;
        fire_();
        c_.in_callback_ = false;
      });
    }
    void arm_at(Micros deadline) override {
      const Micros on_base = deadline - c_.moved_;
      early_ = on_base - c_.base_.now() > 100;
      inner_->arm_at(early_ ? on_base - 100 : on_base);
    }
    void cancel() override { inner_->cancel(); }
    bool armed() const override { return inner_->armed(); }

   private:
    EarlyTimerClock& c_;
    std::function<void()> fire_;
    std::unique_ptr<Timer> inner_;
    bool early_ = false;
  };
  ManualClock& base_;
  mutable Micros moved_ = 0;
  mutable int reads_ = 0;
  bool in_callback_ = false;
  uint64_t early_firings_ = 0;
};

unsigned parity_of(const SeenFrame& f) {
  return crypto::layer_epoch_parity(ByteView(f.body).subspan(relay::kLinkHeaderSize));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(epoch)

BOOST_AUTO_TEST_CASE(relays_switch_epochs_under_traffic_and_nothing_is_lost) {
  sim::InProcessWorld w;
  declare_world(w, true, {}, [](relay::RelayConfig& c) {
    c.mix.strategy = relay::MixConfig::Strategy::poisson;
    c.mix.mean_delay = kSecond;  // some packets sit in the mix across each switch
  });
  w.use_epochs(timing(w), 6);
  Wire wire;
  wire.watch(w);  // the link mix-1 -> relay-beta
  w.start();
  uint64_t n = 0;
  // Three switches (into epochs 1, 2, 3), with a burst in the last second before each.
  for (uint64_t e = 0; e < 3; ++e) {
    advance_to(w, e, kLength - kSecond);
    std::vector<relay::Submission> burst;
    for (int i = 0; i < 20; ++i) burst.push_back(message_to_beta(w, ++n));
    w.submitter(kAlpha).send_all(burst);
    w.advance(kSecond / 2);
    w.submitter(kAlpha).send(message_to_beta(w, ++n));
    w.advance(kSecond);  // across the switch
  }
  w.advance(kOverlap - 2 * kSecond);  // within the overlap of epoch 3: the stragglers land
  BOOST_TEST(w.submitter(kAlpha).accepted() == n);
  BOOST_TEST(w.deliver(kBeta).deliveries().size() == n);
  for (const std::string r : {kAlpha, kMix, kBeta}) {
    BOOST_TEST_CONTEXT(r) {
      BOOST_TEST(w.counter(r, Counter::epoch_switches) == 3u);
      BOOST_TEST(w.relay(r).metrics().epoch == 3u);
      BOOST_TEST(w.counter(r, Counter::packets_dropped_epoch) == 0u);
      BOOST_TEST(w.counter(r, Counter::packets_dropped_auth) == 0u);
    }
  }
  // Some packets under an epoch's key reached relay-beta after that epoch ended (the overlap
  // carried them), and packets of every epoch 0..2 went over the link.
  std::size_t late = 0;
  std::set<unsigned> parities;
  for (const SeenFrame& f : wire.packets()) {
    parities.insert(parity_of(f));
    const auto epoch_at_send = static_cast<uint64_t>(f.at / kLength);
    if (parity_of(f) != (epoch_at_send & 1)) ++late;
  }
  BOOST_TEST(parities.size() == 2u);
  BOOST_TEST(late > 0u);
}

BOOST_AUTO_TEST_CASE(a_packet_of_a_wiped_epoch_is_refused_and_counted) {
  TestJournal beta_journal;
  sim::InProcessWorld w;
  declare_world(w, false, {}, {}, {}, 4, nullptr, &beta_journal);
  w.use_epochs(timing(w), 4);
  Wire wire;
  wire.watch(w);
  w.start();
  w.submitter(kAlpha).send(message_to_beta(w, 1));
  w.settle();
  BOOST_REQUIRE(w.deliver(kBeta).deliveries().size() == 1u);
  const Bytes seen = wire.packets().at(0).body;
  BOOST_TEST(beta_journal.tags.count(0) == 1u);

  Attacker attacker(w, kAlpha);
  attacker.send(seen);  // the same epoch: the replay cache has it
  w.settle();
  BOOST_TEST(w.counter(kBeta, Counter::packets_dropped_replay) == 1u);

  advance_to(w, 1, kOverlap - kSecond);  // epoch 1, still inside the overlap
  attacker.send(seen);
  w.settle();
  BOOST_TEST(w.counter(kBeta, Counter::packets_dropped_replay) == 2u);
  BOOST_TEST(beta_journal.tags.count(0) == 1u);

  advance_to(w, 1, kOverlap + kSecond);  // epoch 0's key and tags are gone
  BOOST_TEST(beta_journal.tags.count(0) == 0u);
  attacker.send(seen);
  w.settle();
  BOOST_TEST(w.counter(kBeta, Counter::packets_dropped_epoch) == 1u);
  BOOST_TEST(w.counter(kBeta, Counter::packets_dropped_replay) == 2u);
  BOOST_TEST(w.deliver(kBeta).deliveries().size() == 1u);
  attacker.stream->close();
  w.settle();
}

BOOST_AUTO_TEST_CASE(a_sender_ahead_in_the_next_epoch_gets_through_in_the_second_half) {
  sim::InProcessWorld w;
  declare_world(w, false);
  w.use_epochs(timing(w), 4);
  // relay-alpha's clock runs 40 s ahead: it is in epoch 1 while relay-beta is 40..60 s into epoch 0.
  w.node(kAlpha).config.epoch_timing = timing(w, 40 * kSecond);
  Wire wire;
  wire.watch(w);
  w.start();
  advance_to(w, 0, 45 * kSecond);
  BOOST_TEST(w.relay(kAlpha).metrics().epoch == 1u);
  BOOST_TEST(w.relay(kBeta).metrics().epoch == 0u);
  w.submitter(kAlpha).send(message_to_beta(w, 1));
  w.settle();
  BOOST_TEST(w.deliver(kBeta).deliveries().size() == 1u);
  BOOST_REQUIRE(!wire.packets().empty());
  BOOST_TEST(parity_of(wire.packets().back()) == 1u);
  BOOST_TEST(w.counter(kBeta, Counter::packets_dropped_auth) == 0u);
}

// A timer that fires just before the switch, with the wall clock past it by the time the timer is
// armed again, must not skip the switch (and wait for the end of the overlap).
BOOST_AUTO_TEST_CASE(an_epoch_timer_firing_early_still_switches_at_the_boundary) {
  sim::InProcessWorld w;
  EarlyTimerClock early(w.clock);
  w.relay_clock = &early;
  declare_world(w, true);
  w.use_epochs(timing(w), 4);
  w.start();
  for (uint64_t e = 1; e <= 2; ++e) {
    advance_to(w, e, kSecond);  // well before the end of the overlap
    for (const std::string r : {kAlpha, kMix, kBeta}) {
      BOOST_TEST_CONTEXT(r << ", epoch " << e) {
        BOOST_TEST(w.relay(r).metrics().epoch == e);
        BOOST_TEST(w.counter(r, Counter::epoch_switches) == e);
      }
    }
  }
  BOOST_TEST(early.early_firings() >= 6u);  // each relay's timer fired early at each switch
  for (const std::string r : {kAlpha, kMix, kBeta}) w.stop_relay(r);  // before `early` goes
}

BOOST_AUTO_TEST_CASE(a_relay_without_a_key_for_the_current_epoch_does_not_start) {
  sim::InProcessWorld w;
  declare_world(w, false);
  w.use_epochs(timing(w), 2);  // keys for epochs 0 and 1 only
  w.start();
  advance_to(w, 2, kSecond);
  w.stop_relay(kBeta);
  BOOST_CHECK_THROW(w.restart_relay(kBeta), std::runtime_error);
}

BOOST_AUTO_TEST_CASE(a_newer_directory_brings_the_next_epochs_keys_without_dropping_anything) {
  sim::InProcessWorld w;
  declare_world(w, true, {}, [](relay::RelayConfig& c) {
    c.mix.strategy = relay::MixConfig::Strategy::poisson;
    c.mix.mean_delay = 5 * kSecond;
  });
  w.use_epochs(timing(w), 4);
  w.start();
  // A directory that publishes epochs 0 and 1 only replaces the one the relays started with.
  std::map<std::string, std::map<uint64_t, crypto::PublicKey>> all;
  for (const auto& pc : w.node(kAlpha).config.directory) all[pc.name] = pc.epoch_keys;
  for (const std::string name : {kAlpha, kMix, kBeta}) {
    for (auto& pc : w.node(name).config.directory) {
      pc.epoch_keys.erase(pc.epoch_keys.lower_bound(2), pc.epoch_keys.end());
    }
    auto restart = w.relay(name).update_directory(w.node(name).config);
    BOOST_TEST(restart.empty());
  }
  advance_to(w, 2, kSecond);  // epoch 2: nobody publishes a key for it
  w.submitter(kAlpha).send(message_to_beta(w, 1));
  w.settle();
  BOOST_TEST(w.submitter(kAlpha).answers().back().reason() == "unknown_destination");

  // Messages in the mix when the newer directory arrives stay there and leave on schedule.
  for (const std::string name : {kAlpha, kMix, kBeta}) {
    for (auto& pc : w.node(name).config.directory) pc.epoch_keys = all[pc.name];
    BOOST_TEST(w.relay(name).update_directory(w.node(name).config).empty());
    BOOST_TEST(w.counter(name, Counter::directory_updates) == 2u);
  }
  for (uint64_t n = 2; n < 12; ++n) w.submitter(kAlpha).send(message_to_beta(w, n));
  w.settle();
  BOOST_TEST(w.submitter(kAlpha).accepted() == 10u);
  w.advance(kSecond);
  const auto before = w.relay(kMix).metrics().pool_now;
  BOOST_TEST(before > 0u);
  for (const std::string name : {kAlpha, kMix, kBeta}) {
    BOOST_TEST(w.relay(name).update_directory(w.node(name).config).empty());  // the same again
  }
  BOOST_TEST(w.relay(kMix).metrics().pool_now == before);
  w.advance(60 * kSecond);
  BOOST_TEST(w.deliver(kBeta).deliveries().size() == 10u);

  // What only a restart can apply is said, and the rest still applies.
  auto changed = w.node(kAlpha).config;
  for (auto& pc : changed.directory) {
    if (pc.name == kMix) pc.port = 9;
  }
  changed.directory.erase(std::remove_if(changed.directory.begin(), changed.directory.end(),
                                         [](const relay::PeerConfig& pc) { return pc.name == kBeta; }),
                          changed.directory.end());
  const auto restart = w.relay(kAlpha).update_directory(changed);
  BOOST_TEST(restart.size() == 2u);
}

BOOST_AUTO_TEST_CASE(without_a_keyed_mix_a_submission_is_refused_not_sent_unmixed) {
  sim::InProcessWorld w;
  declare_world(w, true, [](relay::RelayConfig& c) { c.cover.drop_rate = 50; });
  w.use_epochs(timing(w), 4);
  w.start();
  // A directory in which mix-1 publishes no key for the current epoch (0).
  auto newer = w.node(kAlpha).config;
  for (auto& pc : newer.directory) {
    if (pc.name == kMix) pc.epoch_keys.erase(0);
  }
  BOOST_TEST(w.relay(kAlpha).update_directory(newer).empty());
  const uint64_t covers = w.counter(kAlpha, Counter::cover_drop_sent);
  w.submitter(kAlpha).send(message_to_beta(w, 1));
  w.advance(kSecond);
  BOOST_TEST(w.submitter(kAlpha).answers().back().reason() == "unknown_destination");
  BOOST_TEST(w.counter(kAlpha, Counter::cover_drop_sent) == covers);
  BOOST_TEST(w.deliver(kBeta).deliveries().empty());
  BOOST_TEST(w.counter(kBeta, Counter::packets_received) == 0u);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace veil::relay_test
