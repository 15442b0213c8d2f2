// Drives real relays for one point: A (submit, the mix under study) → tap → B (mix none,
// delivers); records submit times, link packets and deliveries; recovers ground truth by
// removing the A→B pairwise layer with B's key (packets are never altered on the way).
#include "bench/privacy/run_point.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <limits>
#include <memory>
#include <mutex>
#include <thread>

#include "crypto/packet_layer.h"
#include "crypto/sealed_sender.h"
#include "proxy/sim/messenger.h"
#include "proxy/sim/network.h"
#include "proxy/sim/tap.h"
#include "proxy/sim/temp_dir.h"

namespace veil::bench::privacy {
namespace {

using Clock = std::chrono::steady_clock;
namespace c = veil::crypto;

double secs(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(a - b).count();
}

uint64_t wall_ms() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

// Waits until `done()` or `until`, reporting progress every 100 ms.
void wait_reporting(Clock::time_point until, const std::function<bool()>& done,
                    const std::function<void()>& report) {
  while (Clock::now() < until && !(done && done())) {
    report();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

}  // namespace

RunResult run_point(const World& world, const PointConfig& cfg,
                    const std::function<void(double)>& progress) {
  RunResult res;
  const sim::TempDir scratch("privacy-point");  // outlives the relay processes below
  const auto& dir = scratch.path();
  try {
    SeededRng rng(cfg.seed * 7919 + 17);
    const auto& alpha = world.alpha();
    const auto& beta = world.beta();
    const std::size_t packet_size = world.config().packet_size;
    sim::RelayNode a = sim::make_node("relay-a", alpha.name, rng);
    sim::RelayNode b = sim::make_node("relay-b", beta.name, rng);
    a.settings = {{"mix_hops", 0},
                  {"packet_size", packet_size},
                  {"mix", cfg.mix},
                  {"per_peer_queue", 400000},
                  {"cover", {{"drop_rate", cfg.cover_drop}, {"loop_rate", cfg.cover_loop}}}};
    b.settings = {{"mix_hops", 0},
                  {"packet_size", packet_size},
                  {"mix", {{"strategy", "none"}}},
                  {"per_peer_queue", 400000},
                  {"cover", {{"drop_rate", 0}, {"loop_rate", 0}}}};
    for (const auto& acc : beta.accounts) b.recipients[acc.uuid] = to_hex(acc.access_key);

    // The adversary's tap on A → B (B's directory address points at the tap).
    sim::Tap tap(b.peer_port, /*keep_bytes=*/true);
    b.dial_port = tap.port();
    const std::vector<sim::RelayNode> nodes = {a, b};

    // Messenger server B: notes each delivery's time and tail; opens a few to check the mapping.
    std::map<std::string, const sim::Account*> beta_by_uuid;
    for (const auto& acc : beta.accounts) beta_by_uuid[acc.uuid] = &acc;
    c::TrustPolicy policy;
    policy.roots = {alpha.trust_root.pub, beta.trust_root.pub};
    c::CertificateValidator validator(policy);
    std::vector<std::pair<Clock::time_point, std::string>> delivered;
    delivered.reserve(static_cast<std::size_t>(cfg.rate * cfg.send_seconds * 1.3) + 1024);
    std::size_t verified = 0, verify_failed = 0;
    sim::DeliverServer beta_server(b.deliver_port, [&](const veil::relay::Delivery& d) {
      delivered.emplace_back(Clock::now(), envelope_tail(d.envelope()));
      if (verified + verify_failed >= 24) return;
      auto it = beta_by_uuid.find(d.recipient().service_id());
      const int64_t msg = world.lookup_tail(d.envelope());
      if (it == beta_by_uuid.end() || msg < 0) {
        ++verify_failed;
        return;
      }
      auto opened = c::open_sealed(as_bytes(d.envelope()), it->second->identity, validator, wall_ms());
      if (!opened) {
        ++verify_failed;
        return;
      }
      const auto& body = opened->content.content;
      const std::string text(body.begin(), body.end());
      const auto bar = text.find('|');
      if (text.empty() || text[0] != '#' || bar == std::string::npos) return;  // too short to carry it
      const long n = std::strtol(text.c_str() + 1, nullptr, 10);
      if (n == msg) {
        ++verified;
      } else {
        ++verify_failed;
      }
    });
    sim::DeliverServer alpha_server(a.deliver_port, [](const veil::relay::Delivery&) {});

    sim::RelayProcess relay_a(a, nodes, dir);
    sim::RelayProcess relay_b(b, nodes, dir);
    relay_a.wait_ready();
    relay_b.wait_ready();
    // Wait for A's link to B (through the tap) to come up.
    const auto link_deadline = Clock::now() + std::chrono::seconds(5);
    while (Clock::now() < link_deadline) {
      const auto m = relay_a.metrics();
      if (m.contains("counters") && m["counters"].value("peer_connects", 0) >= 1) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }

    const auto& bank = world.bank();
    const std::size_t usable = cfg.max_messages ? std::min(cfg.max_messages, bank.size()) : bank.size();
    const std::vector<double> sched =
        poisson_schedule(cfg.rate, cfg.send_seconds, cfg.bursts, usable, cfg.seed);
    const std::size_t n = sched.size();
    res.scheduled = n;
    std::vector<double> t_in(n, std::numeric_limits<double>::quiet_NaN());
    std::unique_ptr<std::atomic<uint8_t>[]> status(new std::atomic<uint8_t>[n]);
    for (std::size_t i = 0; i < n; ++i) status[i] = 0;
    std::mutex reasons_mu;
    std::map<std::string, std::size_t> reasons;
    std::vector<std::unique_ptr<sim::SubmitClient>> clients;
    const std::size_t conns = std::max<std::size_t>(1, cfg.connections);
    for (std::size_t k = 0; k < conns; ++k) {
      clients.push_back(std::make_unique<sim::SubmitClient>(
          a.submit_port, [&](const veil::relay::SubmitAnswer& ans) {
            const uint64_t id = ans.request_id();
            if (id >= n) return;
            if (ans.status() == veil::relay::SubmitAnswer::ACCEPTED) {
              status[id] = 1;
            } else {
              status[id] = 2;
              std::lock_guard<std::mutex> lock(reasons_mu);
              ++reasons[ans.reason()];
            }
          }));
    }

    const double total = cfg.send_seconds + cfg.drain_seconds;
    const auto t0 = Clock::now() + std::chrono::milliseconds(100);
    std::atomic<std::size_t> senders_done{0};
    std::vector<std::thread> senders;
    for (std::size_t k = 0; k < conns; ++k) {
      senders.emplace_back([&, k] {
        for (std::size_t i = k; i < n; i += conns) {
          const auto due = t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(sched[i]));
          std::this_thread::sleep_until(due);
          t_in[i] = secs(Clock::now(), t0);  // the adversary's input time: taken at send
          if (!clients[k]->send(bank[i].submission)) break;
        }
        ++senders_done;
      });
    }
    auto report = [&] { progress(std::clamp(secs(Clock::now(), t0) / total, 0.0, 1.0)); };
    wait_reporting(t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(total + 600)),
                   [&] { return senders_done.load() == conns; }, report);
    for (auto& t : senders) t.join();
    for (auto& cl : clients) cl->finish(5000);
    res.send_end = 0;
    for (double t : t_in) {
      if (!std::isnan(t)) res.send_end = std::max(res.send_end, t);
    }
    wait_reporting(t0 + std::chrono::duration_cast<Clock::duration>(
                            std::chrono::duration<double>(res.send_end + cfg.drain_seconds)),
                   nullptr, report);
    res.run_end = secs(Clock::now(), t0);
    relay_a.stop();
    tap.stop();
    relay_b.stop();
    beta_server.stop();
    alpha_server.stop();
    clients.clear();
    res.metrics_a = relay_a.metrics();
    res.metrics_b = relay_b.metrics();
    res.verified = verified;
    res.verify_failed = verify_failed;
    res.reject_reasons = reasons;

    // Lateness of the load generator against its schedule.
    std::vector<double> late;
    late.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      if (!std::isnan(t_in[i])) late.push_back((t_in[i] - sched[i]) * 1000.0);
    }
    res.lateness_p99_ms = late.empty() ? 0 : percentile(late, 0.99);
    res.lateness_max_ms = late.empty() ? 0 : *std::max_element(late.begin(), late.end());

    // Ground truth for every link packet: remove the pairwise layer A → B with B's key.
    auto key = c::derive_pairwise_key(*b.epoch_key, a.epoch_key->pub, /*i_am_sender=*/false, 0);
    if (!key) throw std::runtime_error("cannot derive the A->B pairwise key");
    std::vector<double> out_t(n, std::numeric_limits<double>::quiet_NaN());
    {
      const std::vector<sim::TappedPacket> packets = tap.packets();
      std::vector<uint8_t> seen(n, 0);
      for (const auto& p : packets) {
        OutputEvent o;
        o.t = secs(p.at, t0);
        o.frame_size = static_cast<uint32_t>(p.frame_size);
        if (std::find(res.frame_sizes.begin(), res.frame_sizes.end(), o.frame_size) == res.frame_sizes.end()) {
          res.frame_sizes.push_back(o.frame_size);
        }
        auto layer = c::unwrap_pairwise(p.packet, *key);
        if (!layer) {
          ++res.unreadable_packets;
          continue;
        }
        if (layer->command == c::HopCommand::drop) {
          ++res.cover_drop_packets;
          res.cover_bytes += p.frame_size;
        } else if (layer->command != c::HopCommand::deliver) {
          ++res.cover_loop_packets;  // a loop: forwarded by B back to A
          res.cover_bytes += p.frame_size;
        } else {
          veil::relay::Payload payload;
          if (!payload.ParseFromArray(layer->inner.data(), static_cast<int>(layer->inner.size())) ||
              !payload.has_bundle()) {
            ++res.unreadable_packets;
            continue;
          }
          const int64_t msg = world.lookup_tail(payload.bundle().envelope());
          if (msg < 0 || static_cast<std::size_t>(msg) >= n) {
            ++res.unreadable_packets;
            continue;
          }
          if (seen[static_cast<std::size_t>(msg)]) {
            ++res.duplicate_packets;  // identical bytes again: the adversary sees the repeat
            continue;
          }
          seen[static_cast<std::size_t>(msg)] = 1;
          ++res.real_packets;
          res.real_bytes += p.frame_size;
          o.msg = msg;
          out_t[static_cast<std::size_t>(msg)] = o.t;
        }
        res.trace.outputs.push_back(o);
      }
    }
    std::stable_sort(res.trace.outputs.begin(), res.trace.outputs.end(),
                     [](const OutputEvent& x, const OutputEvent& y) { return x.t < y.t; });

    // Inputs: every message the relay accepted (or that left anyway), in send-time order.
    for (std::size_t i = 0; i < n; ++i) {
      const bool out = !std::isnan(out_t[i]);
      if (status[i] == 1) {
        ++res.accepted;
      } else if (status[i] == 2) {
        ++res.rejected;
      } else {
        ++res.unanswered;
      }
      if ((status[i] == 1 || out) && !std::isnan(t_in[i])) {
        res.trace.inputs.push_back(InputEvent{t_in[i], static_cast<uint32_t>(i)});
      }
    }
    std::stable_sort(res.trace.inputs.begin(), res.trace.inputs.end(),
                     [](const InputEvent& x, const InputEvent& y) { return x.t < y.t; });
    res.latency_ms.assign(n, std::numeric_limits<double>::quiet_NaN());
    for (std::size_t i = 0; i < n; ++i) {
      if (!std::isnan(out_t[i]) && !std::isnan(t_in[i])) res.latency_ms[i] = (out_t[i] - t_in[i]) * 1000.0;
    }
    res.delivery_ms.assign(n, std::numeric_limits<double>::quiet_NaN());
    for (const auto& [at, tail] : delivered) {
      ++res.deliveries;
      const int64_t msg = world.lookup_tail(tail);
      if (msg < 0 || static_cast<std::size_t>(msg) >= n) continue;
      double& d = res.delivery_ms[static_cast<std::size_t>(msg)];
      const double ms = (secs(at, t0) - t_in[static_cast<std::size_t>(msg)]) * 1000.0;
      if (std::isnan(d) || ms < d) d = ms;
    }
  } catch (const std::exception& e) {
    res.error = e.what();
  }
  return res;
}

}  // namespace veil::bench::privacy
