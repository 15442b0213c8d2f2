// Synthetic messenger workload for the privacy bench: senders and recipients, a chat-like size
// distribution, a bank of pre-sealed SSv1/SSv2 envelopes, and Poisson arrival schedules.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "proxy/sim/accounts.h"
#include "relay.pb.h"

namespace veil::bench::privacy {

// Content lengths (bytes of the opaque message body before sealing). Default, chat-like:
// with probability 1 - tail_share a lognormal body (median body_median, shape body_sigma), else a
// lognormal tail (median tail_median, shape tail_sigma); rounded, at least 1, at most the largest
// content that still fits one packet (capped, not resampled, so the cap carries a small atom).
struct SizeModel {
  double body_median = 64;
  double body_sigma = 0.9;
  double tail_share = 0.15;
  double tail_median = 700;
  double tail_sigma = 1.0;
};

struct WorkloadConfig {
  std::size_t senders = 10'000;     // accounts at the sending provider; sender 0 is "Alice"
  std::size_t recipients = 1'000;   // accounts at the receiving provider
  double alice_share = 0.01;        // share of messages sent by Alice (statistical disclosure)
  std::size_t alice_contacts = 3;   // Alice writes only to recipients 0..contacts-1
  double v2_share = 0.10;           // share of SSv2 messages (2-3 recipients each)
  SizeModel sizes;
  std::size_t packet_size = 4096;
  uint64_t seed = 1;
};

// One pre-sealed message and its ground truth.
struct BankMessage {
  uint32_t sender = 0;
  std::vector<uint16_t> recipients;  // indexes into the receiving provider's accounts
  uint32_t content_len = 0;
  uint32_t envelope_size = 0;
  uint8_t version = 1;
  veil::relay::Submission submission;  // request_id = the message's index in the bank
};

// Both providers' accounts and the bank of envelopes, reused by every run of a sweep (each run
// starts fresh relays, and no two messages of one run share an envelope).
class World {
 public:
  // Creates the accounts; seals `messages` envelopes on `threads` threads. `progress(done, total)`
  // is called now and then from the calling thread.
  World(const WorkloadConfig& config, std::size_t messages, unsigned threads,
        const std::function<void(std::size_t, std::size_t)>& progress);

  const WorkloadConfig& config() const { return config_; }
  const sim::Provider& alpha() const { return alpha_; }
  const sim::Provider& beta() const { return beta_; }
  const std::vector<BankMessage>& bank() const { return bank_; }
  std::size_t content_cap_v1() const { return cap_v1_; }
  std::size_t content_cap_v2() const { return cap_v2_; }
  // The bank index of the message whose (submitted or delivered) envelope ends in these bytes;
  // -1 if none. SSv2 deliveries end in the same shared tail as the submitted sent message.
  int64_t lookup_tail(std::string_view envelope) const;
  double seal_seconds() const { return seal_seconds_; }

 private:
  WorkloadConfig config_;
  sim::Provider alpha_;
  sim::Provider beta_;
  std::vector<BankMessage> bank_;
  std::unordered_map<std::string, uint32_t> by_tail_;
  std::size_t cap_v1_ = 0;
  std::size_t cap_v2_ = 0;
  double seal_seconds_ = 0;
};

// Optional bursts on top of the base rate: every `every_s` seconds the rate is multiplied by
// `factor` for `length_s` seconds. factor <= 1 disables them.
struct Bursts {
  double factor = 1;
  double length_s = 0.2;
  double every_s = 5;
  bool enabled() const { return factor > 1 && length_s > 0 && every_s > 0; }
};

// Arrival offsets (seconds from the start, increasing) of a Poisson process of `rate`/s with
// `bursts`, for as many arrivals as fall in [0, duration), but at most `max_count`.
std::vector<double> poisson_schedule(double rate, double duration, const Bursts& bursts,
                                     std::size_t max_count, uint64_t seed);

// Key of an envelope for lookup_tail (its last 32 bytes).
std::string envelope_tail(std::string_view envelope);

}  // namespace veil::bench::privacy
