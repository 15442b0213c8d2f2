// veil-bench soak: steady load on three real relays with crashes and reloads, sampled over time.
#include "bench/soak/soak.h"

#include <dirent.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "proxy/sim/deployment.h"
#include "proxy/sim/messenger.h"

namespace veil::bench {
namespace {

using SteadyClock = std::chrono::steady_clock;

// SIGINT or SIGTERM ends the soak early: the load stops, the relays drain, the report is written.
std::atomic<bool> g_stop{false};
extern "C" void on_stop_signal(int) { g_stop = true; }

const char* const kRelays[] = {sim::kAlpha, "mix-1", sim::kBeta};

struct Sample {
  double t = 0;            // seconds since the soak began
  std::string relay;
  int incarnation = 0;     // 0 for the first process, +1 at each restart
  double alive_s = 0;      // seconds since this process started
  uint64_t rss_kb = 0;
  uint64_t fds = 0;
  uint64_t pool = 0;
  uint64_t queued = 0;
  uint64_t epoch = 0;
  uint64_t accepted = 0;   // the load's totals at this time
  uint64_t busy = 0;
  uint64_t delivered = 0;
};

uint64_t rss_kb(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::strtoull(line.c_str() + 6, nullptr, 10);
  }
  return 0;
}

uint64_t open_fds(pid_t pid) {
  uint64_t n = 0;
  DIR* d = ::opendir(("/proc/" + std::to_string(pid) + "/fd").c_str());
  if (d == nullptr) return 0;
  while (dirent* e = ::readdir(d)) n += e->d_name[0] != '.' ? 1 : 0;
  ::closedir(d);
  return n;
}

double seconds_since(SteadyClock::time_point t) {
  return std::chrono::duration<double>(SteadyClock::now() - t).count();
}

// The load: one pipelined submit connection fed from a bank of sealed submissions (a resent
// envelope is a new packet to the relays), each with its own request id.
class Load {
 public:
  Load(sim::Deployment& net, std::size_t bank_size) : net_(net) {
    for (std::size_t i = 0; i < bank_size; ++i) {
      const std::size_t size = 300 + net.rng.uniform(500);
      std::string text = "veil-soak #" + std::to_string(i) + "|";
      text.resize(size, 'x');
      bank_.push_back(sim::v1_submission(net.alpha.accounts[i % net.alpha.accounts.size()],
                                         net.beta.accounts[i % net.beta.accounts.size()],
                                         as_bytes(text), net.rng, 0));
    }
    client_ = std::make_unique<sim::SubmitClient>(net.submit_port(), [this](const relay::SubmitAnswer& a) {
      if (a.status() == relay::SubmitAnswer::ACCEPTED) {
        ++accepted_;
      } else if (a.reason() == "busy") {
        ++busy_;
      } else {
        ++other_;
      }
    });
  }
  // Sends one submission unless `max_in_flight` are unanswered; false if not sent.
  bool send(uint64_t max_in_flight) {
    if (sent_ - answered() >= max_in_flight) return false;
    relay::Submission s = bank_[sent_ % bank_.size()];
    s.set_request_id(sent_);
    if (!client_->send(s)) return false;
    ++sent_;
    return true;
  }
  void finish() { client_->finish(30000); }
  uint64_t sent() const { return sent_; }
  uint64_t answered() const { return accepted_ + busy_ + other_; }
  uint64_t accepted() const { return accepted_; }
  uint64_t busy() const { return busy_; }
  uint64_t other() const { return other_; }

 private:
  sim::Deployment& net_;
  std::vector<relay::Submission> bank_;
  std::unique_ptr<sim::SubmitClient> client_;
  uint64_t sent_ = 0;
  std::atomic<uint64_t> accepted_{0}, busy_{0}, other_{0};
};

// Submissions accepted per second with the relays flat out (at most 4,096 in flight), over the
// last three quarters of `seconds`.
double probe_capacity(Load& load, double seconds) {
  const auto begin = SteadyClock::now();
  uint64_t at_quarter = 0;
  bool quarter_seen = false;
  while (seconds_since(begin) < seconds && !g_stop) {
    if (!quarter_seen && seconds_since(begin) >= seconds / 4) {
      at_quarter = load.accepted();
      quarter_seen = true;
    }
    if (!load.send(4096)) std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  const double rate = static_cast<double>(load.accepted() - at_quarter) / (seconds * 0.75);
  load.finish();
  return rate;
}

struct Verdict {
  std::string relay;
  int incarnations = 0;
  uint64_t rss_warm = 0, rss_last = 0, rss_max = 0;
  uint64_t fds_min = UINT64_MAX, fds_max = 0;
  uint64_t pool_max = 0, queued_max = 0;
  uint64_t epoch_min = UINT64_MAX, epoch_max = 0;
  bool flat = true;
};

// Per relay, over its last process's samples from `warmup_s` into its run: resident memory (first
// to last) and descriptors; pool, queue and epochs over every sample.
std::vector<Verdict> judge(const std::vector<Sample>& samples, double warmup_s) {
  std::vector<Verdict> out;
  for (const char* name : kRelays) {
    Verdict v;
    v.relay = name;
    int last = 0;
    for (const Sample& s : samples) {
      if (s.relay == name) last = std::max(last, s.incarnation);
    }
    v.incarnations = last + 1;
    for (const Sample& s : samples) {
      if (s.relay != name) continue;
      v.pool_max = std::max(v.pool_max, s.pool);
      v.queued_max = std::max(v.queued_max, s.queued);
      v.epoch_min = std::min(v.epoch_min, s.epoch);
      v.epoch_max = std::max(v.epoch_max, s.epoch);
      v.rss_max = std::max(v.rss_max, s.rss_kb);
      if (s.incarnation != last || s.alive_s < warmup_s) continue;
      if (v.rss_warm == 0) v.rss_warm = s.rss_kb;
      v.rss_last = s.rss_kb;
      v.fds_min = std::min(v.fds_min, s.fds);
      v.fds_max = std::max(v.fds_max, s.fds);
    }
    // Flat: memory grew by at most 10 % (or 8 MiB) after the warm-up, and descriptors moved by at
    // most 12 (links coming and going across the neighbours' restarts, the journal's files).
    const uint64_t allowed = std::max<uint64_t>(v.rss_warm / 10, 8192);
    v.flat = v.rss_warm != 0 && v.rss_last <= v.rss_warm + allowed && v.fds_max >= v.fds_min &&
             v.fds_max - v.fds_min <= 12;
    out.push_back(v);
  }
  return out;
}

}  // namespace

const char* soak_usage() {
  return "usage: veil-bench soak [--minutes M] [--rate R] [--probe-seconds S] [--sample-seconds S]\n"
         "                       [--kill-every S] [--reload-every S] [--warmup S] [--out DIR] [--seed N]\n"
         "  --minutes M         the soak, after the capacity probe (default 30)\n"
         "  --rate R            submissions/s (default 0: half the capacity the probe measures)\n"
         "  --probe-seconds S   the capacity probe (default 20)\n"
         "  --sample-seconds S  between samples of each relay (default 10)\n"
         "  --kill-every S      SIGKILL and restart mix-1 and relay-beta in turn (default 300; 0: never)\n"
         "  --reload-every S    SIGHUP with changed cover rates, each relay in turn (default 120; 0: never)\n"
         "  --warmup S          memory is compared from this long into a process's run (default 120)\n"
         "  --out DIR           samples.csv and summary.md (default soak-results)\n";
}

bool parse_soak_options(int argc, char** argv, int first, SoakOptions& o) {
  for (int i = first; i < argc; ++i) {
    const std::string a = argv[i];
    const bool more = i + 1 < argc;
    if (a == "--minutes" && more) {
      o.minutes = std::atof(argv[++i]);
    } else if (a == "--rate" && more) {
      o.rate = std::atof(argv[++i]);
    } else if (a == "--probe-seconds" && more) {
      o.probe_seconds = std::atof(argv[++i]);
    } else if (a == "--sample-seconds" && more) {
      o.sample_seconds = std::atof(argv[++i]);
    } else if (a == "--kill-every" && more) {
      o.kill_every_s = std::atof(argv[++i]);
    } else if (a == "--reload-every" && more) {
      o.reload_every_s = std::atof(argv[++i]);
    } else if (a == "--warmup" && more) {
      o.warmup_s = std::atof(argv[++i]);
    } else if (a == "--out" && more) {
      o.out = argv[++i];
    } else if (a == "--seed" && more) {
      o.seed = std::strtoull(argv[++i], nullptr, 10);
    } else {
      std::fputs(soak_usage(), stderr);
      return false;
    }
  }
  if (!(o.minutes > 0) || o.rate < 0 || !(o.probe_seconds > 0) || !(o.sample_seconds > 0) ||
      o.kill_every_s < 0 || o.reload_every_s < 0 || o.minutes > 24 * 60) {
    std::fputs("veil-bench soak: minutes, probe and sample times must be > 0 (minutes at most a day)\n", stderr);
    return false;
  }
  return true;
}

int run_soak(const SoakOptions& o) {
  std::vector<std::string> faults;
  sim::Spec spec;
  spec.mixes = 1;
  spec.plain_links = false;
  spec.keep_deliveries = false;
  spec.seed = o.seed;
  spec.common = {{"mix_hops", 1},
                 {"mix", {{"strategy", "poisson"}, {"mean_delay_ms", 100}}},
                 {"cover", {{"drop_rate", 2}, {"loop_rate", 2}}},
                 {"per_peer_queue", 20000},
                 {"metrics_interval_ms", 500}};
  spec.on_fault = [&](const std::string& what) { faults.push_back(what); };
  // Epochs of 5 minutes (overlap 1 minute): the replay cache, which holds one epoch's tags, is
  // dropped along the way, so its size does not read as growth; each relay makes its switches.
  spec.directory.epoch_length_s = 300;
  spec.directory.valid_for_s = static_cast<int64_t>(o.minutes * 60 + o.probe_seconds) + 3600;
  spec.common["epoch_overlap_ms"] = 60000;
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
  std::filesystem::create_directories(o.out);
  sim::Deployment net(spec, "veil-soak");
  try {
    net.start();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "veil-bench soak: the relays did not start: %s\n", e.what());
    return 2;
  }
  Load load(net, 256);
  const double capacity = probe_capacity(load, o.probe_seconds);
  const double rate = o.rate > 0 ? o.rate : capacity / 2;
  std::printf("{\"part\":\"probe\",\"capacity_per_s\":%.0f,\"rate_per_s\":%.0f}\n", capacity, rate);
  std::fflush(stdout);
  // What the probe left in the relays goes first.
  if (!sim::wait_until(std::chrono::seconds(60), [&] { return net.beta_delivery_count() >= load.accepted(); },
                       std::chrono::milliseconds(100))) {
    faults.push_back("the probe's accepted submissions were not all delivered within 60 s");
  }
  const uint64_t accepted0 = load.accepted(), busy0 = load.busy(), sent0 = load.sent();
  const std::size_t delivered0 = net.beta_delivery_count();

  std::ofstream csv(std::filesystem::path(o.out) / "samples.csv");
  csv << "t_s,relay,incarnation,alive_s,rss_kb,fds,pool,queued,epoch,accepted,busy,delivered\n";
  std::vector<Sample> samples;
  std::map<std::string, int> incarnation;
  std::map<std::string, SteadyClock::time_point> started;
  for (const char* r : kRelays) started[r] = SteadyClock::now();

  const auto begin = SteadyClock::now();
  const double total_s = o.minutes * 60;
  double next_sample = 0, next_kill = o.kill_every_s, next_reload = o.reload_every_s;
  int kills = 0, reloads = 0;
  double owed = 0;  // submissions due and not yet sent
  auto last_tick = SteadyClock::now();
  while (true) {
    const double t = seconds_since(begin);
    if (t >= total_s || g_stop) break;
    // Load at `rate`, in 10 ms steps; what cannot be sent (too much in flight) is dropped from
    // the schedule, not caught up later.
    const auto now = SteadyClock::now();
    owed = std::min(owed + rate * std::chrono::duration<double>(now - last_tick).count(), rate);
    last_tick = now;
    while (owed >= 1 && load.send(20000)) owed -= 1;
    if (t >= next_sample) {
      for (const char* r : kRelays) {
        const sim::RelayProcess& p = net.relay(r);
        const nlohmann::json m = p.metrics();
        Sample s;
        s.t = t;
        s.relay = r;
        s.incarnation = incarnation[r];
        s.alive_s = seconds_since(started[r]);
        s.rss_kb = rss_kb(p.pid());
        s.fds = open_fds(p.pid());
        if (m.contains("gauges")) {
          s.pool = m["gauges"].value("pool", uint64_t{0});
          s.queued = m["gauges"].value("queued", uint64_t{0});
          s.epoch = m["gauges"].value("epoch", uint64_t{0});
        }
        s.accepted = load.accepted() - accepted0;
        s.busy = load.busy() - busy0;
        s.delivered = net.beta_delivery_count() - delivered0;
        csv << s.t << ',' << s.relay << ',' << s.incarnation << ',' << s.alive_s << ',' << s.rss_kb << ','
            << s.fds << ',' << s.pool << ',' << s.queued << ',' << s.epoch << ',' << s.accepted << ',' << s.busy << ','
            << s.delivered << '\n';
        samples.push_back(s);
      }
      csv.flush();
      next_sample += o.sample_seconds;
    }
    if (o.reload_every_s > 0 && t >= next_reload) {
      const std::string r = kRelays[reloads % 3];
      const double drop = reloads % 2 == 0 ? 3 : 2;
      net.reload(r, {{"cover", {{"drop_rate", drop}, {"loop_rate", 2}}}});
      ++reloads;
      next_reload += o.reload_every_s;
    }
    if (o.kill_every_s > 0 && t >= next_kill) {
      const std::string r = kills % 2 == 0 ? "mix-1" : sim::kBeta;
      net.kill(r);
      std::this_thread::sleep_for(std::chrono::seconds(1));
      net.start(r);
      ++incarnation[r];
      started[r] = SteadyClock::now();
      ++kills;
      next_kill += o.kill_every_s;
      last_tick = SteadyClock::now();  // the second down is not owed
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const double ran_s = seconds_since(begin);
  load.finish();
  const uint64_t accepted = load.accepted() - accepted0;
  const uint64_t busy = load.busy() - busy0;
  const uint64_t sent = load.sent() - sent0;
  sim::wait_until(std::chrono::seconds(120),
                  [&] { return net.beta_delivery_count() - delivered0 >= accepted; },
                  std::chrono::milliseconds(200));
  const uint64_t delivered = net.beta_delivery_count() - delivered0;
  net.expect_running();
  const std::vector<Verdict> verdicts = judge(samples, std::min(o.warmup_s, total_s / 3));

  std::ostringstream md;
  const double ran_min = ran_s / 60;
  md << "Soak: " << std::round(ran_min * 10) / 10 << " min (of " << o.minutes << " planned) at " << std::lround(rate) << " submissions/s (capacity probe "
     << std::lround(capacity) << "/s), " << kills << " crashes and restarts (mix-1, relay-beta in turn), "
     << reloads << " reloads; samples every " << o.sample_seconds << " s.\n\n"
     << "| relay | processes | RSS after warm-up → end (max), MiB | open fds after warm-up | pool max | queued max | epochs | flat |\n"
     << "|---|---|---|---|---|---|---|---|\n";
  bool flat = true;
  for (const Verdict& v : verdicts) {
    char row[256];
    if (v.rss_warm == 0) {  // its last process ran shorter than the warm-up
      std::snprintf(row, sizeof row, "| %s | %d | – (max %.1f) | – | %llu | %llu | %llu–%llu | not judged |\n",
                    v.relay.c_str(), v.incarnations, static_cast<double>(v.rss_max) / 1024.0,
                    static_cast<unsigned long long>(v.pool_max), static_cast<unsigned long long>(v.queued_max),
                    static_cast<unsigned long long>(v.epoch_min), static_cast<unsigned long long>(v.epoch_max));
      md << row;
      flat = false;
      continue;
    }
    std::snprintf(row, sizeof row, "| %s | %d | %.1f → %.1f (%.1f) | %llu–%llu | %llu | %llu | %llu–%llu | %s |\n",
                  v.relay.c_str(), v.incarnations, static_cast<double>(v.rss_warm) / 1024.0,
                  static_cast<double>(v.rss_last) / 1024.0, static_cast<double>(v.rss_max) / 1024.0,
                  static_cast<unsigned long long>(v.fds_min), static_cast<unsigned long long>(v.fds_max),
                  static_cast<unsigned long long>(v.pool_max), static_cast<unsigned long long>(v.queued_max),
                  static_cast<unsigned long long>(v.epoch_min), static_cast<unsigned long long>(v.epoch_max),
                  v.flat ? "yes" : "no");
    md << row;
    flat = flat && v.flat;
  }
  md << "\nSubmissions sent " << sent << ", accepted " << accepted << ", busy " << busy << ", other "
     << load.other() << "; deliveries " << delivered << ". The load reuses a bank of sealed "
     << "envelopes, so a delivery made twice across a crash cannot be told apart here: this checks "
     << "that no fewer arrived than were accepted (exactly once across crashes is integration.crash's "
     << "test).\n";
  for (const std::string& f : faults) md << "\nFault: " << f << "\n";
  std::ofstream(std::filesystem::path(o.out) / "summary.md") << md.str();
  std::fputs(md.str().c_str(), stdout);
  const bool delivered_all = accepted > 0 && delivered >= accepted;
  const bool judged = o.minutes >= 10;
  std::printf("{\"part\":\"soak\",\"accepted\":%llu,\"delivered\":%llu,\"busy\":%llu,\"faults\":%zu,"
              "\"flat\":%s,\"judged\":%s}\n",
              static_cast<unsigned long long>(accepted), static_cast<unsigned long long>(delivered),
              static_cast<unsigned long long>(busy), faults.size(), flat ? "true" : "false",
              judged ? "true" : "false");
  return faults.empty() && delivered_all && load.other() == 0 && (flat || !judged) ? 0 : 1;
}

}  // namespace veil::bench
