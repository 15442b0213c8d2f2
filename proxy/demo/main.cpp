// veil-demo: two providers' relays and one mix on loopback carry real SSv1 and SSv2 messages from
// alpha.example's users to beta.example's users, then report what happened. The relays run on a
// signed directory with one-minute epochs, over TLS links. Midway, mix-1 is killed (kill -9) and
// relay-beta restarted (SIGTERM): their journals keep what they accepted; and every relay
// switches to the next epoch's keys while messages are in flight.
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "crypto/sealed_sender.h"
#include "proxy/sim/admin_client.h"
#include "proxy/sim/accounts.h"
#include "proxy/sim/messenger.h"
#include "proxy/sim/network.h"
#include "proxy/sim/temp_dir.h"

namespace {

using Clock = std::chrono::steady_clock;
namespace sim = veil::sim;
namespace c = veil::crypto;

double percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto i = static_cast<std::size_t>(q * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

uint64_t wall_ms() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t messages = 300;
  if (argc > 1) messages = std::strtoul(argv[1], nullptr, 10);
  const std::size_t v2_every = 3;  // every third message is a 3-recipient SSv2 message
  veil::SystemRng rng;

  const sim::TempDir scratch("demo");  // outlives every relay process below
  const auto& dir = scratch.path();
  std::printf("Veil demo — two providers' relays and one mix on loopback (state in %s, removed at "
              "exit unless VEIL_KEEP_TEMP=1)\n\n",
              dir.c_str());

  const uint64_t expires = wall_ms() + 86'400'000;
  sim::Provider alpha = sim::Provider::create("alpha.example", 10, expires, rng);
  sim::Provider beta = sim::Provider::create("beta.example", 12, expires, rng);

  std::vector<sim::RelayNode> nodes;
  nodes.push_back(sim::make_node("relay-alpha", alpha.name, rng));
  nodes.push_back(sim::make_node("mix-1", "", rng));
  nodes.push_back(sim::make_node("relay-beta", beta.name, rng));
  const nlohmann::json common = {{"mix_hops", 1},
                                 {"packet_size", 4096},
                                 {"mix", {{"strategy", "poisson"}, {"mean_delay_ms", 20}}},
                                 {"cover", {{"drop_rate", 5}, {"loop_rate", 5}}},
                                 {"epoch_overlap_ms", 20000}};
  for (auto& n : nodes) n.settings = common;
  for (const auto& a : beta.accounts) nodes[2].recipients[a.uuid] = veil::to_hex(a.access_key);

  // beta.example's messenger server: opens every delivery with the recipient's key.
  c::TrustPolicy policy;
  policy.roots = {alpha.trust_root.pub, beta.trust_root.pub};
  c::CertificateValidator validator(policy);
  std::map<std::string, const sim::Account*> beta_by_uuid;
  for (const auto& a : beta.accounts) beta_by_uuid[a.uuid] = &a;
  std::mutex mu;
  std::map<std::size_t, Clock::time_point> submitted_at;
  std::vector<double> latency_ms;
  std::set<std::pair<std::size_t, std::string>> seen;
  std::size_t duplicates = 0, failed_opens = 0, sender_fields = 0;
  std::string sample_json, sample_delivery;
  sim::DeliverServer beta_server(nodes[2].deliver_port, [&](const veil::relay::Delivery& d) {
    const auto now = Clock::now();
    auto it = beta_by_uuid.find(d.recipient().service_id());
    if (it == beta_by_uuid.end()) {
      ++failed_opens;
      return;
    }
    auto opened = c::open_sealed(veil::as_bytes(d.envelope()), it->second->identity, validator, wall_ms());
    if (!opened) {
      ++failed_opens;
      return;
    }
    const std::string text(opened->content.content.begin(), opened->content.content.end());
    const std::size_t n = std::strtoul(text.c_str() + text.rfind('#') + 1, nullptr, 10);
    std::lock_guard<std::mutex> lock(mu);
    if (!seen.insert({n, d.recipient().service_id()}).second) {
      ++duplicates;
      return;
    }
    // The delivery itself names no sender: count any field beyond the five the protocol names.
    sender_fields += d.GetReflection()->GetUnknownFields(d).field_count();
    latency_ms.push_back(std::chrono::duration<double, std::milli>(now - submitted_at[n]).count());
    if (sample_json.empty() && opened->version == 2) {
      char buf[512];
      std::snprintf(buf, sizeof buf,
                    "{\"version\":%d,\"sender_uuid\":\"%s\",\"sender_device\":%u,\"type\":\"%s\","
                    "\"content\":\"%s\"}",
                    opened->version, opened->content.sender.sender_uuid.c_str(),
                    opened->content.sender.sender_device,
                    std::string(c::content_type_name(opened->content.type)).c_str(), text.c_str());
      sample_json = buf;
      std::snprintf(buf, sizeof buf,
                    "recipient %s devices [%d], access_key %zu B, envelope %zu B (SSv2 received, "
                    "first byte 0x%02x), server_timestamp %llu (quantized to the hour)",
                    d.recipient().service_id().c_str(), d.recipient().devices(0),
                    d.access_key().size(), d.envelope().size(),
                    static_cast<unsigned>(static_cast<uint8_t>(d.envelope()[0])),
                    static_cast<unsigned long long>(d.server_timestamp()));
      sample_delivery = buf;
    }
  });
  sim::DeliverServer alpha_server(nodes[0].deliver_port, [](const veil::relay::Delivery&) {});

  // The network's signed directory: one-minute epochs, the next switch a few seconds from now,
  // three directory authorities of which the relays require two.
  constexpr int64_t kSwitchInS = 4;
  sim::DirectoryOptions directory;
  directory.epoch_length_s = 60;
  directory.genesis_unix_s = static_cast<int64_t>(std::time(nullptr)) + kSwitchInS - 60;
  directory.valid_for_s = 3600;
  directory.authorities = 3;
  directory.threshold = 2;
  sim::write_directory(nodes, dir, directory);
  const auto switch_at = Clock::now() + std::chrono::seconds(kSwitchInS);

  std::vector<std::unique_ptr<sim::RelayProcess>> relays;
  for (const auto& n : nodes) relays.push_back(std::make_unique<sim::RelayProcess>(n, nodes, dir));
  for (auto& r : relays) r->wait_ready();
  std::printf("relays up: relay-alpha (alpha.example, submit 127.0.0.1:%u) -> mix-1 -> relay-beta "
              "(beta.example)\n",
              nodes[0].submit_port);
  std::printf("directory: signed by 3 directory authorities, each relay requires 2; epochs of 60 s, "
              "next switch in about %lld s\n",
              static_cast<long long>(kSwitchInS));
  std::printf("links: TLS 1.3, each end pinned to the other's identity key in the directory\n");
  std::printf("each hop: Poisson mix, mean delay 20 ms; covers: 5 drop/s and 5 loop/s per relay; "
              "packets of 4096 B\n\n");
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // let peer links come up

  // alpha.example's messenger server submits.
  std::size_t accepted = 0, rejected = 0, expected = 0;
  const auto expected_so_far = [&] { return expected; };  // the submit loop's own count
  std::mutex answer_mu;
  sim::SubmitClient client(nodes[0].submit_port, [&](const veil::relay::SubmitAnswer& a) {
    std::lock_guard<std::mutex> lock(answer_mu);
    if (a.status() == veil::relay::SubmitAnswer::ACCEPTED) {
      ++accepted;
    } else {
      ++rejected;
      std::fprintf(stderr, "rejected: %s: %s\n", a.reason().c_str(), a.message().c_str());
    }
  });
  std::size_t v1 = 0, v2 = 0;
  const auto delivered_so_far = [&] {
    std::lock_guard<std::mutex> lock(mu);
    return seen.size();
  };
  const auto recovered = [](const sim::RelayProcess& r) {
    const auto j = nlohmann::json::parse(r.ready_line(), nullptr, false);
    return j.is_discarded() ? std::string("?")
                            : std::to_string(j.value("packets_recovered", 0)) + " packets and " +
                                  std::to_string(j.value("deliveries_recovered", 0)) + " deliveries";
  };
  // What each relay printed before a crash or restart (its epoch switch may be there).
  std::vector<std::string> earlier_output(relays.size());
  // Mid-run, one crash and one graceful restart; the journal keeps what each relay accepted.
  const auto crash_mix = [&] {
    const std::size_t in_flight = expected_so_far() - delivered_so_far();
    relays[1]->kill();
    earlier_output[1] += relays[1]->output();
    std::printf("kill -9 mix-1 while about %zu deliveries were accepted and not yet delivered "
                "(some in mix-1's pool); ", in_flight);
    relays[1] = std::make_unique<sim::RelayProcess>(nodes[1], nodes, dir);
    relays[1]->wait_ready();
    std::printf("restarted, recovered %s from its journal\n", recovered(*relays[1]).c_str());
  };
  const auto restart_beta = [&] {
    const int status = relays[2]->stop();
    earlier_output[2] += relays[2]->output();
    std::printf("SIGTERM relay-beta: drained and exited with status %d; ", WEXITSTATUS(status));
    relays[2] = std::make_unique<sim::RelayProcess>(nodes[2], nodes, dir);
    relays[2]->wait_ready();
    std::printf("restarted, recovered %s from its journal\n", recovered(*relays[2]).c_str());
  };
  const auto start = Clock::now();
  // At least `messages`, and on until a second after the epoch switch.
  for (std::size_t i = 0; i < messages || Clock::now() < switch_at + std::chrono::seconds(1); ++i) {
    if (i == messages / 3) crash_mix();
    if (i == 2 * messages / 3) restart_beta();
    const sim::Account& sender = alpha.accounts[rng.uniform(alpha.accounts.size())];
    const std::string text = "hello from alpha.example, message #" + std::to_string(i);
    veil::relay::Submission s;
    s.set_request_id(i);
    s.set_destination(beta.name);
    if (i % v2_every == v2_every - 1) {
      std::vector<const sim::Account*> to;
      while (to.size() < 3) {
        const sim::Account* r = &beta.accounts[rng.uniform(beta.accounts.size())];
        if (std::find(to.begin(), to.end(), r) == to.end()) to.push_back(r);
      }
      const auto key = sim::combined_access_key(to);
      s.set_access_key(key.data(), key.size());
      const veil::Bytes env = sim::seal_v2_to(sender, to, veil::as_bytes(text), rng);
      s.set_envelope(env.data(), env.size());
      expected += to.size();
      ++v2;
    } else {
      const sim::Account& to = beta.accounts[rng.uniform(beta.accounts.size())];
      auto* r = s.add_recipients();
      r->set_service_id(to.uuid);
      r->add_devices(to.device);
      s.set_access_key(to.access_key.data(), to.access_key.size());
      const veil::Bytes env = sim::seal_v1_to(sender, to, veil::as_bytes(text), rng);
      s.set_envelope(env.data(), env.size());
      expected += 1;
      ++v1;
    }
    {
      std::lock_guard<std::mutex> lock(mu);
      submitted_at[i] = Clock::now();
    }
    client.send(s);
    // Poisson arrivals at about 100 messages/s.
    std::this_thread::sleep_for(std::chrono::microseconds(
        static_cast<long>(-std::log(1.0 - rng.unit()) * 1e6 / 100.0)));
  }
  client.finish();
  std::printf("submitted %zu sealed messages (%zu SSv1, %zu SSv2 to 3 recipients each) in %.2f s: "
              "%zu accepted, %zu rejected\n",
              v1 + v2, v1, v2, std::chrono::duration<double>(Clock::now() - start).count(),
              accepted, rejected);

  const auto deadline = Clock::now() + std::chrono::seconds(20);
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (seen.size() >= expected) break;
    }
    if (Clock::now() > deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // late duplicates would show here

  std::lock_guard<std::mutex> lock(mu);
  std::printf("delivered %zu/%zu expected deliveries to beta.example's users (duplicates %zu, "
              "failed to open %zu)\n",
              seen.size(), expected, duplicates, failed_opens);
  std::printf("end-to-end added latency (submit -> delivery): p50 %.1f ms, p95 %.1f ms, p99 %.1f ms\n",
              percentile(latency_ms, 0.5), percentile(latency_ms, 0.95), percentile(latency_ms, 0.99));
  // The admin endpoint of relay-alpha, as Prometheus and an orchestrator see it.
  {
    const uint16_t port = relays[0]->admin_port();
    const sim::HttpReply ready = sim::http_get(port, "/readyz");
    const sim::HttpReply metrics = sim::http_get(port, "/metrics");
    std::size_t families = 0;
    for (auto at = metrics.body.find("# TYPE "); at != std::string::npos; at = metrics.body.find("# TYPE ", at + 1)) ++families;
    const auto scraped_accepted = sim::sample_value(metrics.body, "veil_submissions_total{result=\"accepted\",reason=\"ok\"}");
    const auto sent = sim::sample_value(metrics.body, "veil_packets_sent_total");
    // VEIL_DEMO_SCRAPE=FILE keeps the whole scrape (for a look at what Prometheus would get).
    if (const char* keep = std::getenv("VEIL_DEMO_SCRAPE")) std::ofstream(keep) << metrics.body;
    std::printf("relay-alpha admin endpoint 127.0.0.1:%u: /readyz %d %s; /metrics %d, %zu families "
                "(veil_submissions_total accepted %.0f, veil_packets_sent_total %.0f)\n",
                port, ready.status, ready.body.substr(0, ready.body.find('\n')).c_str(), metrics.status,
                families, scraped_accepted.value_or(-1), sent.value_or(-1));
  }
  for (auto& r : relays) r->stop();
  std::size_t switched = 0;
  for (std::size_t i = 0; i < relays.size(); ++i) {
    const std::string out = earlier_output[i] + relays[i]->output();
    const auto at = out.find("{\"event\":\"epoch\"");
    if (at == std::string::npos) continue;
    ++switched;
    std::printf("%-12s switched epochs: %s\n", relays[i]->name().c_str(),
                out.substr(at, out.find('\n', at) - at).c_str());
  }
  for (auto& r : relays) {
    const auto m = r->metrics();
    if (m.empty()) continue;
    const auto& k = m["counters"];
    std::printf("%-12s pool size at flushes mean %.1f p95 %.0f | packets in %llu out %llu | covers "
                "sent drop %llu loop %llu, loops back %llu (p50 %.0f ms) | dropped: auth %llu "
                "replay %llu epoch %llu\n",
                r->name().c_str(), m["pool_size"]["mean"].get<double>(),
                m["pool_size"]["p95"].get<double>(),
                static_cast<unsigned long long>(k["packets_received"].get<uint64_t>()),
                static_cast<unsigned long long>(k["packets_sent"].get<uint64_t>()),
                static_cast<unsigned long long>(k["cover_drop_sent"].get<uint64_t>()),
                static_cast<unsigned long long>(k["cover_loop_sent"].get<uint64_t>()),
                static_cast<unsigned long long>(k["cover_loop_returned"].get<uint64_t>()),
                m["loop_latency_us"]["p50"].get<double>() / 1000.0,
                static_cast<unsigned long long>(k["packets_dropped_auth"].get<uint64_t>()),
                static_cast<unsigned long long>(k["packets_dropped_replay"].get<uint64_t>()),
                static_cast<unsigned long long>(k["packets_dropped_epoch"].get<uint64_t>()));
  }
  std::printf("\nwhat beta.example's server received in one delivery: %s\n", sample_delivery.c_str());
  std::printf("fields beyond recipient, access key, envelope, timestamp and delivery id: %zu\n",
              sender_fields);
  std::printf("the recipient opened it (sender known only inside the sealed envelope): %s\n",
              sample_json.c_str());
  beta_server.stop();
  alpha_server.stop();
  const bool ok = seen.size() == expected && duplicates == 0 && failed_opens == 0 && rejected == 0 &&
                  switched == relays.size();
  std::printf("\n%s\n", ok ? "demo: every accepted message was delivered exactly once, across a "
                              "crash of mix-1, a restart of relay-beta and an epoch switch of every relay"
                           : "demo: FAILED (see above)");
  return ok ? 0 : 1;
}
