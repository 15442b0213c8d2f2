// The admin endpoint of real relays: a scrape under load passes promtool's parser and lint, its
// counters move with the traffic, it names no sender or recipient; /livez and /readyz answer, and
// /readyz turns 503 during a drain; the endpoint also serves on a Unix socket.
#include <boost/test/unit_test.hpp>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"
#include "load.h"
#include "proxy/sim/admin_client.h"

namespace veil::it {
namespace {

using namespace std::chrono_literals;

std::string scrape(sim::RelayProcess& r) {
  const sim::HttpReply reply = sim::http_get(r.admin_port(), "/metrics");
  BOOST_TEST_REQUIRE(reply.status == 200, r.name() << " /metrics: " << reply.status << " " << reply.body);
  return reply.body;
}

double value(const std::string& text, const std::string& series) {
  const auto v = sim::sample_value(text, series);
  BOOST_TEST_REQUIRE(v.has_value(), "no sample " << series);
  return *v;
}

// GET /readyz over the Unix socket at `path` with a request written by hand (no process spawned,
// so that polls come every fraction of a millisecond): the raw answer, or "" when nothing listens.
std::string readyz_over(const std::string& path) {
  sockaddr_un a{};
  if (path.size() >= sizeof a.sun_path) return "";
  a.sun_family = AF_UNIX;
  std::memcpy(a.sun_path, path.c_str(), path.size() + 1);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return "";
  timeval tv{3, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return "";
  }
  const std::string request = "GET /readyz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
  (void)!::write(fd, request.data(), request.size());
  std::string got;
  char buf[4096];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) got.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  return got;
}

// "503 starting: opening the journal" from a raw HTTP answer: status code and body.
std::string status_and_body(const std::string& reply) {
  const auto body = reply.find("\r\n\r\n");
  if (reply.rfind("HTTP/1.1 ", 0) != 0 || body == std::string::npos) return "unreadable: " + reply;
  std::string b = reply.substr(body + 4);
  if (b.ends_with('\n')) b.pop_back();
  return reply.substr(9, 3) + " " + b;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(admin)

BOOST_AUTO_TEST_CASE(a_scrape_under_load_passes_promtool_counts_the_traffic_and_names_no_user) {
  Deployment net("admin-scrape", {{"plain_links", false}});
  net.start();
  for (const std::string& name : net.names()) {
    sim::RelayProcess& r = net.relay(name);
    BOOST_TEST(r.admin_port() != 0u);
    const sim::HttpReply live = sim::http_get(r.admin_port(), "/livez");
    BOOST_TEST(live.status == 200);
    BOOST_TEST(live.body == "ok\n");
    const sim::HttpReply ready = sim::http_get(r.admin_port(), "/readyz");
    BOOST_TEST(ready.status == 200, name << ": " << ready.body);
    BOOST_TEST(sim::http_get(r.admin_port(), "/nothing").status == 404);
  }
  const std::string before = scrape(net.relay(kAlpha));
  const double accepted_before = value(before, "veil_submissions_total{result=\"accepted\",reason=\"ok\"}");

  Load load(net, 100, 7);
  std::this_thread::sleep_for(1500ms);
  // Scraped while the load runs: every relay's exposition passes promtool.
  std::map<std::string, std::string> during;
  for (const std::string& name : net.names()) {
    during[name] = scrape(net.relay(name));
    BOOST_TEST(sim::promtool_problems(during[name]) == "", name);
  }
  load.stop();
  const std::size_t accepted = load.accepted_count();
  BOOST_TEST_REQUIRE(accepted > 50u);
  BOOST_REQUIRE_MESSAGE(wait_until(15s, [&] { return net.beta_inbox().distinct() >= accepted; }),
                        "delivered " << net.beta_inbox().distinct() << " of " << accepted);

  // Counters moved as the traffic flowed, on every relay of the path.
  std::string alpha;
  wait_until(5s, [&] {
    alpha = scrape(net.relay(kAlpha));
    return value(alpha, "veil_submissions_total{result=\"accepted\",reason=\"ok\"}") >=
           accepted_before + static_cast<double>(accepted);
  });
  BOOST_TEST(value(alpha, "veil_submissions_total{result=\"accepted\",reason=\"ok\"}") ==
             accepted_before + static_cast<double>(accepted));
  BOOST_TEST(value(alpha, "veil_packets_sent_total") >= static_cast<double>(accepted));
  BOOST_TEST(value(alpha, "veil_peer_link_up{peer=\"mix-1\"}") == 1);
  BOOST_TEST(value(alpha, "veil_link_handshakes_total{result=\"completed\"}") >= 1);
  BOOST_TEST(value(alpha, "veil_mix_batch_packets_count") >= 1);
  BOOST_TEST(value(alpha, "veil_ready") == 1);
  BOOST_TEST(value(alpha, "process_resident_memory_bytes") > 0);
  BOOST_TEST(value(alpha, "process_open_fds") > 0);
  BOOST_TEST(value(alpha, "veil_journal_sync_seconds_count") >= 1);
  const std::string mix = scrape(net.relay(kMix));
  BOOST_TEST(value(mix, "veil_packets_forwarded_total") >= static_cast<double>(accepted));
  BOOST_TEST(!sim::sample_value(mix, "veil_deliver_link_up").has_value());  // a mix has none
  std::string beta;
  wait_until(5s, [&] {
    beta = scrape(net.relay(kBeta));
    return value(beta, "veil_deliveries_acknowledged_total") >= static_cast<double>(accepted);
  });
  BOOST_TEST(value(beta, "veil_deliveries_acknowledged_total") >= static_cast<double>(accepted));
  BOOST_TEST(value(beta, "veil_deliver_link_up") == 1);
  BOOST_TEST(value(beta, "veil_deliveries_dropped_total{reason=\"access_denied\"}") == 0);

  // Every metric the Grafana dashboard queries exists in these scrapes.
  {
    std::ifstream f(std::string(VEIL_SOURCE_DIR) + "/packaging/grafana/veil-relay.json");
    const nlohmann::json dash = nlohmann::json::parse(f);
    std::string all;
    for (const auto& [name, text] : during) all += text;
    all += alpha + beta + mix;
    std::size_t queried = 0;
    for (const auto& panel : dash.at("panels")) {
      for (const auto& target : panel.at("targets")) {
        const std::string expr = target.at("expr");
        for (std::size_t i = 0; i < expr.size();) {
          const bool start = (expr.compare(i, 5, "veil_") == 0 || expr.compare(i, 8, "process_") == 0) &&
                             (i == 0 || !(std::isalnum(static_cast<unsigned char>(expr[i - 1])) || expr[i - 1] == '_'));
          if (!start) {
            ++i;
            continue;
          }
          std::size_t j = i;
          while (j < expr.size() && (std::isalnum(static_cast<unsigned char>(expr[j])) || expr[j] == '_')) ++j;
          const std::string name = expr.substr(i, j - i);
          ++queried;
          BOOST_TEST((all.find("\n" + name + "{") != std::string::npos || all.find("\n" + name + " ") != std::string::npos),
                     "the dashboard's panel \"" << panel.at("title").get<std::string>() << "\" queries " << name
                                                << ", which no relay exports");
          i = j;
        }
      }
    }
    BOOST_TEST(queried > 20u);
  }

  // A submission whose text is not UTF-8: refused with a reason, and nothing but JSON in the log
  // (the protobuf library would have written its own line to stderr).
  {
    sim::Socket s = raw_connection(net.submit_port());
    BOOST_REQUIRE(s.send_frame(Bytes{0x12, 0x02, 0xC0, 0xFF}));
    const auto a = read_answer(s);
    BOOST_REQUIRE(a.has_value());
    BOOST_TEST(a->reason() == "malformed");
  }

  // The relays' logs: every line one JSON object with time, level and msg; none names a sender
  // or a recipient, and only the start line names an address (the relay's own endpoints). Every
  // field is one of those below, none of which is a single message's size or time: a new field
  // joins this list only if it says neither (the start line's config is the relay's own).
  const std::set<std::string> fields = {
      "time", "level", "msg", "version", "config", "peer", "epoch", "peer_port", "submit_port", "admin_port",
      "packets_recovered", "deliveries_recovered", "changed", "needs_restart", "directory_serial", "mix",
      "cover_drop_rate", "cover_loop_rate", "log_level", "problems", "problem", "drain_timeout_ms",
      "left_in_pool", "left_queued", "write_errors_total", "loop_loss_ratio", "loop_latency_p99_ms",
      "peer_links_down", "down_for_s", "queued", "pending", "path", "error", "line"};
  for (const std::string& name : net.names()) {
    std::ifstream f(net.dir() / (name + ".log"));
    std::size_t lines = 0;
    for (std::string line; std::getline(f, line);) {
      ++lines;
      const nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
      BOOST_TEST_REQUIRE(j.is_object(), name << " log line is not JSON: " << line);
      BOOST_TEST((j.contains("time") && j.contains("level") && j.contains("msg")), line);
      for (const auto& [key, v] : j.items()) BOOST_TEST(fields.count(key) == 1u, "field " << key << " in " << line);
      if (lines == 1) {  // the start line: the version and the effective config, no secrets
        BOOST_TEST(j.value("msg", "") == "starting", line);
        BOOST_TEST(j.value("version", "") == VEIL_VERSION, line);
        const nlohmann::json& c = j.at("config");
        BOOST_TEST(c.value("name", "") == name, line);
        BOOST_TEST(c.contains("mix"), line);
        BOOST_TEST(c.contains("directory_serial"), line);
        BOOST_TEST((!c.contains("recipients") || c["recipients"].is_number()), line);  // a count, never who
        for (const char* secret : {"seed", "priv", "access_key", "identity"}) {
          BOOST_TEST(line.find(secret) == std::string::npos, secret << " in " << line);
        }
      }
      const std::string l = lower(line);
      for (const sim::Provider* p : {&net.alpha, &net.beta}) {
        for (const sim::Account& a : p->accounts) BOOST_TEST(l.find(lower(a.uuid)) == std::string::npos, line);
      }
      if (j.value("msg", "") != "starting") BOOST_TEST(line.find("127.0.0.1") == std::string::npos, line);
    }
    BOOST_TEST(lines >= 2u, name);  // at least the start and ready lines
  }

  // No scrape of any relay names a sender or a recipient (their service ids, in any case).
  during[kAlpha + std::string("/after")] = alpha;
  during[kBeta + std::string("/after")] = beta;
  for (const auto& [name, text] : during) {
    const std::string t = lower(text);
    for (const sim::Provider* p : {&net.alpha, &net.beta}) {
      for (const sim::Account& a : p->accounts) {
        BOOST_TEST(t.find(lower(a.uuid)) == std::string::npos, name << " names " << a.uuid);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(readyz_turns_503_during_a_drain) {
  Deployment net("admin-drain");
  // Pooled packets keep the drain going for seconds.
  net.configure(kAlpha, {{"mix", {{"strategy", "poisson"}, {"mean_delay_ms", 3000}}}, {"drain_timeout_ms", 4000}});
  net.start();
  sim::RelayProcess& alpha = net.relay(kAlpha);
  BOOST_TEST(sim::http_get(alpha.admin_port(), "/readyz").status == 200);
  Submitter submitter(net.submit_port());
  for (std::size_t i = 0; i < 10; ++i) {
    BOOST_REQUIRE(submitter.send(v1_submission(net.alpha.accounts[0], net.beta.accounts[i % 6], i, net.rng)));
  }
  BOOST_REQUIRE(submitter.wait_answers(10s));
  alpha.begin_drain();
  sim::HttpReply during;
  BOOST_TEST(wait_until(3s, [&] {
    during = sim::http_get(alpha.admin_port(), "/readyz");
    return during.status == 503;
  }));
  BOOST_TEST(during.body.find("draining") != std::string::npos, during.body);
  BOOST_TEST(sim::http_get(alpha.admin_port(), "/livez").status == 200);  // the loop still turns
  BOOST_TEST(net.stop(kAlpha) == 0);
}

// From the moment the admin socket exists /readyz answers 503 with the step the relay is at, and
// 200 only once it is ready; it never goes back. Polled from before the process starts.
BOOST_AUTO_TEST_CASE(readyz_says_what_the_relay_is_starting_until_it_is_ready) {
  Deployment net("admin-start", nlohmann::json::object(), false);
  const std::string socket = (net.dir() / "alpha-admin.sock").string();
  BOOST_TEST_REQUIRE(socket.size() < sizeof(sockaddr_un{}.sun_path), socket);
  net.configure(kAlpha, {{"admin_listen", "unix:" + socket}});
  std::atomic<bool> started{false};
  std::atomic<bool> give_up{false};
  std::vector<std::string> answers;  // each distinct answer, in order (the poller's until joined)
  std::thread poller([&] {
    const auto until = std::chrono::steady_clock::now() + 60s;
    while (std::chrono::steady_clock::now() < until && !give_up) {
      const std::string reply = readyz_over(socket);
      if (!reply.empty()) {
        const std::string seen = status_and_body(reply);
        if (answers.empty() || answers.back() != seen) answers.push_back(seen);
        if (seen.rfind("200 ", 0) == 0 && started) return;
      } else if (!answers.empty() && answers.back().rfind("200 ", 0) != 0) {
        answers.clear();  // gone while starting: the harness starts it again (a port was taken)
      }
      std::this_thread::sleep_for(200us);
    }
  });
  try {
    net.start(kAlpha);
  } catch (...) {
    give_up = true;
    poller.join();
    throw;
  }
  started = true;
  poller.join();
  std::string said;
  for (const auto& a : answers) said += "\n  " + a;
  BOOST_TEST_MESSAGE("/readyz while relay-alpha started:" << said);
  BOOST_TEST_REQUIRE(!answers.empty(), "no answer");
  BOOST_TEST(answers.back() == "200 ready", said);
  // Every answer before it is a 503 naming a starting step, in the order the relay takes them.
  const std::vector<std::string> steps = {"503 starting", "503 starting: reading the keys",
                                          "503 starting: opening the journal",
                                          "503 starting: recovering the journal and opening the listeners"};
  std::size_t at = 0;
  for (std::size_t i = 0; i + 1 < answers.size(); ++i) {
    const auto it = std::find(steps.begin() + static_cast<std::ptrdiff_t>(at), steps.end(), answers[i]);
    BOOST_TEST((it != steps.end()), "out of order or unknown: " << answers[i] << said);
    if (it != steps.end()) at = static_cast<std::size_t>(it - steps.begin());
  }
  BOOST_TEST(answers.size() >= 2u, "the relay was never seen starting:" << said);
  BOOST_TEST(sim::http_get(0, "/readyz", 3000, socket).status == 200);
}

BOOST_AUTO_TEST_CASE(the_admin_endpoint_serves_on_a_unix_socket) {
  Deployment net("admin-unix", nlohmann::json::object(), false);
  const std::string socket = (net.dir() / "alpha-admin.sock").string();
  net.configure(kAlpha, {{"admin_listen", "unix:" + socket}});
  net.start();
  const sim::HttpReply ready = sim::http_get(0, "/readyz", 3000, socket);
  BOOST_TEST(ready.status == 200, ready.body);
  const sim::HttpReply metrics = sim::http_get(0, "/metrics", 3000, socket);
  BOOST_TEST(metrics.status == 200);
  BOOST_TEST(sim::promtool_problems(metrics.body) == "");
  BOOST_TEST(net.relay(kAlpha).admin_port() == 0u);
}

BOOST_AUTO_TEST_CASE(a_link_that_never_comes_up_is_logged_and_shown) {
  Deployment net("admin-down", nlohmann::json::object(), /*with_mix=*/false);
  net.start(kAlpha);  // relay-beta is never started
  sim::RelayProcess& alpha = net.relay(kAlpha);
  const auto log = [&] {
    std::ifstream f(net.dir() / (std::string(kAlpha) + ".log"));
    return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  };
  BOOST_TEST(sim::sample_value(sim::http_get(alpha.admin_port(), "/metrics").body,
                               "veil_peer_link_up{peer=\"relay-beta\"}").value_or(-1) == 0.0);
  BOOST_TEST(wait_until(20s, [&] { return log().find("\"msg\":\"peer_link_not_up\",\"down_for_s\":") != std::string::npos; }),
             log());
  BOOST_TEST(log().find("\"peer\":\"relay-beta\"") != std::string::npos);
  // Once up, the link is said up.
  net.start(kBeta);
  BOOST_TEST(wait_until(10s, [&] { return log().find("\"msg\":\"peer_link_up\",\"peer\":\"relay-beta\"") != std::string::npos; }),
             log());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace veil::it
