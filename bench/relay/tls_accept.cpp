// `veil-bench tls`, part 3: TLS handshakes per second a real veil-relay on one core accepts from
// clients in the bench process, next to the in-process figure of measure_tls_handshakes.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <thread>

#include "bench/relay/bench_link.h"
#include "bench/relay/tls_handshakes.h"
#include "bench/relay/tls_parts.h"

namespace veil::bench {
namespace {

using nlohmann::json;

struct ClientCounts {
  std::atomic<uint64_t> completed{0}, failed{0};
};

// Dials the relay again and again until `stop`: a full handshake as directory relay "client",
// close_notify, then waits for the relay to close its end (so the relay finished with it).
void dial_loop(uint16_t port, const std::string& relay_name, std::shared_ptr<LinkTls> tls,
               std::atomic<bool>& stop, ClientCounts& counts) {
  uint8_t buf[256];
  while (!stop) {
    try {
      sim::Socket sock = sim::Socket::connect_tcp(port);
      sock.set_recv_timeout(std::chrono::milliseconds(3000));
      bool done = false;
      {
        LinkChannel link(sock, tls, relay_name);
        if (link.wait_established()) {
          link.finish();
          while (sock.recv_some(buf, sizeof buf) > 0) {
          }
          done = true;
        }
      }
      ++(done ? counts.completed : counts.failed);
    } catch (const std::exception&) {
      ++counts.failed;
    }
  }
}

uint64_t relay_handshakes(const RelaySetup& s, const char* which) {
  const json m = s.relay->metrics();
  return m.contains("links") ? m["links"].value(which, uint64_t{0}) : 0;
}

}  // namespace

AcceptTls tls_accept(const TlsBenchOptions& o, int& rc) {
  AcceptTls out;
  json settings = link_settings(true, false);
  settings["metrics_interval_ms"] = 100;
  RelaySetup s("tls-accept", false, settings);
  s.nodes.push_back(sim::make_node("client", "", s.rng));
  secure_links(s);
  s.start(1);  // every relay thread on core 1; the clients on core 0
  const std::string name = s.nodes[0].name;
  std::vector<std::shared_ptr<LinkTls>> identities;
  for (int i = 0; i < o.clients; ++i) identities.push_back(std::make_shared<LinkTls>(s.scratch.path(), s.nodes, "client"));
  ClientCounts counts;
  std::atomic<bool> stop{false};
  const std::string load_before = load_average();
  std::vector<std::thread> clients;
  for (int i = 0; i < o.clients; ++i) {
    clients.emplace_back([&, i] { dial_loop(s.nodes[0].peer_port, name, identities[static_cast<std::size_t>(i)], stop, counts); });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // warm-up
  const uint64_t h0 = counts.completed;
  const int64_t t0 = steady_ns();
  const double c0 = cpu_seconds(s.relay->pid());
  std::this_thread::sleep_for(std::chrono::duration<double>(o.handshake_seconds));
  const uint64_t h1 = counts.completed;
  const int64_t t1 = steady_ns();
  const double c1 = cpu_seconds(s.relay->pid());
  stop = true;
  for (auto& t : clients) t.join();
  wait_idle(s.relay->pid());
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // a metrics file after the last one
  const uint64_t relay_completed = relay_handshakes(s, "handshakes_completed");
  const uint64_t relay_failed = relay_handshakes(s, "handshakes_failed") +
                                relay_handshakes(s, "handshakes_timed_out") +
                                relay_handshakes(s, "peers_refused_unknown_key") +
                                relay_handshakes(s, "peers_refused_wrong_key");
  const double wall = static_cast<double>(t1 - t0) / 1e9;
  out.per_second = static_cast<double>(h1 - h0) / wall;
  out.relay_cores = (c1 - c0) / wall;
  out.per_core_second = c1 > c0 ? static_cast<double>(h1 - h0) / (c1 - c0) : 0;
  // The same handshakes with both ends in this process, on core 0 (no sockets, no relay).
  const TlsHandshakeRate inproc = measure_tls_handshakes(o.in_process);
  out.in_process_server = inproc.server_per_second;
  out.in_process_both = inproc.per_second;
  print_json({{"impl", "veil"},
              {"op", "tls_handshakes_accepted"},
              {"relay_cores_allowed", 1},
              {"clients", o.clients},
              {"window_s", o.handshake_seconds},
              {"handshakes_per_s", round_to(out.per_second, 0)},
              {"relay_cpu_cores_used", round_to(out.relay_cores, 2)},
              {"handshakes_per_relay_cpu_s", round_to(out.per_core_second, 0)},
              {"client_completed_total", counts.completed.load()},
              {"client_failed_total", counts.failed.load()},
              {"relay_handshakes_completed", relay_completed},
              {"relay_handshakes_not_completed", relay_failed},
              {"in_process_handshakes", inproc.handshakes},
              {"in_process_listener_per_s", round_to(inproc.server_per_second, 0)},
              {"in_process_both_ends_per_s", round_to(inproc.per_second, 0)},
              {"load_before", load_before},
              {"load_after", load_average()},
              {"note", "one veil-relay with every thread on core 1; the bench dials its peer port "
                       "from core 0 with `clients` connections at a time, each a full TLS 1.3 "
                       "handshake (mutual Ed25519, no resumption) as a directory relay, then "
                       "close_notify and wait for the relay to close; relay_handshakes_completed "
                       "includes its own link to the sink; in_process: measure_tls_handshakes, "
                       "both ends in this process over in-memory streams"}});
  // Every dial the clients completed was accepted by the relay (plus its own link to the sink).
  if (counts.failed != 0 || relay_failed != 0 || relay_completed < counts.completed) rc |= 1;
  out.ok = h1 > h0;
  return out;
}

}  // namespace veil::bench
