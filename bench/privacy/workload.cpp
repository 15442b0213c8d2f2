// Privacy-bench workload: accounts, size distribution, parallel sealing of the envelope bank.
#include "bench/privacy/workload.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <stdexcept>
#include <thread>

#include "crypto/packet_layer.h"

namespace veil::bench::privacy {
namespace {

uint64_t wall_ms() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

double normal(Rng& rng) {
  // Box–Muller; one of the pair is enough here.
  const double u1 = 1.0 - rng.unit();
  const double u2 = rng.unit();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
}

std::size_t sample_content_len(const SizeModel& m, std::size_t cap, Rng& rng) {
  const bool tail = rng.unit() < m.tail_share;
  const double median = tail ? m.tail_median : m.body_median;
  const double sigma = tail ? m.tail_sigma : m.body_sigma;
  const double x = median * std::exp(sigma * normal(rng));
  const auto len = static_cast<std::size_t>(std::llround(std::max(1.0, x)));
  return std::min(len, cap);
}

// The body of a message: "#<index>|" followed by random filler, exactly `len` bytes (just filler
// when the number does not fit).
Bytes make_content(std::size_t index, std::size_t len, Rng& rng) {
  Bytes c(len);
  rng.fill(c);
  const std::string tag = "#" + std::to_string(index) + "|";
  if (len >= tag.size() + 4) std::copy(tag.begin(), tag.end(), c.begin());
  return c;
}

// The Payload bytes the submit stage would build for this submission (what must fit one packet).
std::size_t payload_size(const veil::relay::Submission& s) {
  veil::relay::Payload p;
  auto* b = p.mutable_bundle();
  if (s.recipients_size() == 1) *b->add_recipients() = s.recipients(0);
  b->set_access_key(s.access_key());
  b->set_envelope(s.envelope());
  return p.ByteSizeLong();
}

veil::relay::Submission build(const sim::Account& sender,
                              const std::vector<const sim::Account*>& to, const std::string& dest,
                              ByteView content, bool v2, Rng& rng) {
  veil::relay::Submission s;
  s.set_destination(dest);
  if (v2) {
    const auto key = sim::combined_access_key(to);
    s.set_access_key(key.data(), key.size());
    const Bytes env = sim::seal_v2_to(sender, to, content, rng);
    s.set_envelope(env.data(), env.size());
  } else {
    auto* r = s.add_recipients();
    r->set_service_id(to[0]->uuid);
    r->add_devices(to[0]->device);
    s.set_access_key(to[0]->access_key.data(), to[0]->access_key.size());
    const Bytes env = sim::seal_v1_to(sender, *to[0], content, rng);
    s.set_envelope(env.data(), env.size());
  }
  return s;
}

// The largest content length whose submission still fits one packet (binary search on real seals).
std::size_t content_cap(const sim::Provider& a, const sim::Provider& b, std::size_t recipients,
                        std::size_t capacity, Rng& rng) {
  std::vector<const sim::Account*> to;
  for (std::size_t i = 0; i < recipients; ++i) to.push_back(&b.accounts[i]);
  const bool v2 = recipients > 1;
  std::size_t lo = 1, hi = capacity;
  while (lo < hi) {
    const std::size_t mid = (lo + hi + 1) / 2;
    const Bytes content(mid, 0x41);
    const auto s = build(a.accounts[0], to, b.name, content, v2, rng);
    if (payload_size(s) <= capacity) {
      lo = mid;
    } else {
      hi = mid - 1;
    }
  }
  return lo;
}

}  // namespace

std::string envelope_tail(std::string_view envelope) {
  const std::size_t n = std::min<std::size_t>(32, envelope.size());
  return std::string(envelope.substr(envelope.size() - n));
}

namespace {

sim::Provider make_provider(const char* name, std::size_t users, uint64_t seed) {
  if (users < 2) throw std::runtime_error("workload: need at least 2 senders and 3 recipients");
  SeededRng rng(seed);
  return sim::Provider::create(name, users, wall_ms() + 7 * 86'400'000ULL, rng);
}

}  // namespace

World::World(const WorkloadConfig& config, std::size_t messages, unsigned threads,
             const std::function<void(std::size_t, std::size_t)>& progress)
    : config_(config),
      alpha_(make_provider("alpha.example", config.senders, config.seed * 3 + 1)),
      beta_(make_provider("beta.example", config.recipients, config.seed * 3 + 2)) {
  if (config_.recipients < std::max<std::size_t>(3, config_.alice_contacts)) {
    throw std::runtime_error("workload: need at least 2 senders and 3 recipients");
  }
  SeededRng rng(config_.seed);
  const std::size_t capacity = crypto::payload_capacity(config_.packet_size, 1);
  cap_v1_ = content_cap(alpha_, beta_, 1, capacity, rng);
  cap_v2_ = content_cap(alpha_, beta_, 3, capacity, rng);

  // Draw every message's shape sequentially (reproducible), seal in parallel.
  bank_.resize(messages);
  for (std::size_t i = 0; i < messages; ++i) {
    BankMessage& m = bank_[i];
    const bool alice = rng.unit() < config_.alice_share;
    m.sender = alice ? 0 : static_cast<uint32_t>(1 + rng.uniform(config_.senders - 1));
    const std::size_t pool = alice ? config_.alice_contacts : config_.recipients;
    const bool v2 = pool >= 2 && rng.unit() < config_.v2_share;
    m.version = v2 ? 2 : 1;
    const std::size_t k = v2 ? std::min<std::size_t>(pool, 2 + rng.uniform(2)) : 1;
    while (m.recipients.size() < k) {
      const auto r = static_cast<uint16_t>(rng.uniform(pool));
      if (std::find(m.recipients.begin(), m.recipients.end(), r) == m.recipients.end()) {
        m.recipients.push_back(r);
      }
    }
    m.content_len = static_cast<uint32_t>(
        sample_content_len(config_.sizes, v2 ? cap_v2_ : cap_v1_, rng));
  }
  const auto t0 = std::chrono::steady_clock::now();
  std::atomic<std::size_t> next{0}, done{0};
  std::vector<std::thread> pool;
  const unsigned n_threads = std::max(1u, threads);
  for (unsigned t = 0; t < n_threads; ++t) {
    pool.emplace_back([&, t] {
      SeededRng trng(config_.seed * 1'000'003ULL + t + 1);
      for (;;) {
        const std::size_t i = next.fetch_add(64);
        if (i >= messages) break;
        for (std::size_t j = i; j < std::min(messages, i + 64); ++j) {
          BankMessage& m = bank_[j];
          std::vector<const sim::Account*> to;
          for (uint16_t r : m.recipients) to.push_back(&beta_.accounts[r]);
          const Bytes content = make_content(j, m.content_len, trng);
          m.submission = build(alpha_.accounts[m.sender], to, beta_.name, content, m.version == 2, trng);
          m.submission.set_request_id(j);
          m.envelope_size = static_cast<uint32_t>(m.submission.envelope().size());
        }
        done.fetch_add(std::min<std::size_t>(64, messages - i));
      }
    });
  }
  while (done.load() < messages) {
    if (progress) progress(done.load(), messages);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  for (auto& t : pool) t.join();
  if (progress) progress(messages, messages);
  seal_seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  by_tail_.reserve(messages * 2);
  for (std::size_t i = 0; i < messages; ++i) {
    if (!by_tail_.emplace(envelope_tail(bank_[i].submission.envelope()), static_cast<uint32_t>(i)).second) {
      throw std::runtime_error("workload: two envelopes share a tail");
    }
  }
}

int64_t World::lookup_tail(std::string_view envelope) const {
  auto it = by_tail_.find(envelope_tail(envelope));
  return it == by_tail_.end() ? -1 : static_cast<int64_t>(it->second);
}

std::vector<double> poisson_schedule(double rate, double duration, const Bursts& bursts,
                                     std::size_t max_count, uint64_t seed) {
  std::vector<double> out;
  if (rate <= 0 || duration <= 0) return out;
  SeededRng rng(seed);
  // Thinning against the peak rate gives an exact inhomogeneous Poisson process.
  const double peak = bursts.enabled() ? rate * bursts.factor : rate;
  double t = 0;
  while (out.size() < max_count) {
    t += -std::log(1.0 - rng.unit()) / peak;
    if (t >= duration) break;
    double r = rate;
    if (bursts.enabled() && std::fmod(t, bursts.every_s) < bursts.length_s) r = peak;
    if (r >= peak || rng.unit() < r / peak) out.push_back(t);
  }
  return out;
}

}  // namespace veil::bench::privacy
