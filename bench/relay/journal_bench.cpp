// Journal benchmark (see journal_bench.h): sidecar throughput with the journal on and off, the
// disk's append-and-fdatasync bound, added latency at 1,000 msg/s, recovery of pooled packets.
#include "bench/relay/journal_bench.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "bench/relay/harness.h"

namespace veil::bench {
namespace {

using nlohmann::json;

void sleep_s(double s) { std::this_thread::sleep_for(std::chrono::duration<double>(s)); }

void print(const json& j) {
  std::printf("%s\n", j.dump().c_str());
  std::fflush(stdout);
}

// What the figures need from one metrics file of a relay, with the time the relay wrote it.
struct Snapshot {
  double written_at = 0;  // the file's mtime, CLOCK_REALTIME seconds
  uint64_t accepted = 0, syncs = 0, bytes = 0, write_errors = 0, pool = 0;
  double sync_seconds = 0;
};

double mtime_of(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return 0;
  return static_cast<double>(st.st_mtim.tv_sec) + static_cast<double>(st.st_mtim.tv_nsec) / 1e9;
}

// Waits for the next metrics file the relay writes (every metrics_interval_ms) and reads it, so
// that its mtime is when the counters were taken.
Snapshot fresh_snapshot(const RelaySetup& s) {
  const std::string path = s.metrics_file();
  const double before = mtime_of(path);
  const int64_t deadline = steady_ns() + 3'000'000'000;
  for (;;) {
    const double m0 = mtime_of(path);
    if (m0 == before && steady_ns() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      continue;
    }
    const json j = s.relay->metrics();
    const double m1 = mtime_of(path);
    if ((m1 != m0 || !j.contains("journal")) && steady_ns() < deadline) continue;  // replaced meanwhile
    Snapshot r;
    r.written_at = m1;
    if (!j.contains("journal")) return r;
    r.accepted = j["counters"]["submissions_accepted"].get<uint64_t>();
    r.syncs = j["journal"]["syncs"].get<uint64_t>();
    r.bytes = j["journal"]["bytes_written"].get<uint64_t>();
    r.write_errors = j["journal"]["write_errors"].get<uint64_t>();
    r.sync_seconds = j["journal"]["sync_seconds"].get<double>();
    r.pool = j["gauges"]["pool"].get<uint64_t>();
    return r;
  }
}

// CPU seconds of a relay's threads so far, by role: the loop (the main thread), the executor's
// workers (sealing, and the journal's synced writes), RocksDB's own background threads (memtable
// flushes, compactions; named rocksdb:*).
struct ThreadCpu {
  double loop = 0, workers = 0, rocksdb = 0;
};

ThreadCpu thread_cpu(pid_t pid) {
  ThreadCpu t;
  const std::string task = "/proc/" + std::to_string(pid) + "/task";
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(task, ec)) {
    const std::string tid = e.path().filename().string();
    std::string comm;
    std::getline(std::ifstream(e.path() / "comm"), comm);
    const double secs = cpu_seconds_in((e.path() / "stat").string());
    if (tid == std::to_string(pid)) {
      t.loop += secs;
    } else if (comm.rfind("rocksdb", 0) == 0) {
      t.rocksdb += secs;
    } else {
      t.workers += secs;
    }
  }
  return t;
}

json relay_settings(bool journal, int commit_window_ms) {
  json s = base_settings();
  s["metrics_interval_ms"] = 100;
  s["drain_timeout_ms"] = 0;
  if (!journal) {
    s["run_without_journal"] = true;
  } else if (commit_window_ms > 0) {
    s["journal_commit_window_ms"] = commit_window_ms;
  }
  return s;
}

// ---- 1. Sidecar throughput, journal on and off ------------------------------------------------

struct Window {
  double seconds = 0;         // sink clock
  uint64_t delivered = 0;     // packets at the sink within the window
  double relay_cpu = 0;       // relay CPU seconds within the window
  ThreadCpu threads;          // the same by thread role
  double bench_cpu = 0;       // this process (load generator and sink) within the window
  uint64_t rejected = 0;
  Snapshot m0, m1;            // metrics at the window's edges (journal figures)
  Snapshot q0, q1;            // metrics before the load started and after it drained (idle relay)
  double rate() const { return seconds > 0 ? static_cast<double>(delivered) / seconds : 0; }
};

// One closed-loop window (`in_flight` submissions unanswered at most; `veil-bench relay --mode
// sidecar` uses 8192): 0.5 s to fill the pipeline, then `seconds` measured; then the answers and
// the packets drain.
Window sidecar_window(RelaySetup& s, const std::vector<Bytes>& frames, double seconds,
                      std::size_t in_flight, uint64_t& accepted_total) {
  wait_idle(s.relay->pid());
  Window w;
  w.q0 = fresh_snapshot(s);
  std::atomic<bool> stop{false};
  PipelineResult result;
  std::thread gen([&] { result = run_submitter(s.nodes[0].submit_port, frames, stop, in_flight, 0, nullptr); });
  sleep_s(0.5);
  w.m0 = fresh_snapshot(s);
  const uint64_t p0 = s.sink->packets();
  const int64_t t0 = steady_ns();
  const double c0 = cpu_seconds(s.relay->pid());
  const ThreadCpu tc0 = thread_cpu(s.relay->pid());
  const double b0 = cpu_seconds(::getpid());
  sleep_s(seconds);
  w.m1 = fresh_snapshot(s);
  const uint64_t p1 = s.sink->packets();
  const int64_t t1 = steady_ns();
  const double c1 = cpu_seconds(s.relay->pid());
  const ThreadCpu tc1 = thread_cpu(s.relay->pid());
  w.bench_cpu = cpu_seconds(::getpid()) - b0;
  w.threads = {tc1.loop - tc0.loop, tc1.workers - tc0.workers, tc1.rocksdb - tc0.rocksdb};
  stop = true;
  gen.join();
  accepted_total += result.accepted;
  w.rejected = result.rejected;
  wait_for(*s.sink, accepted_total, 10);
  wait_idle(s.relay->pid());
  w.q1 = fresh_snapshot(s);
  w.seconds = static_cast<double>(t1 - t0) / 1e9;
  w.delivered = p1 - p0;
  w.relay_cpu = c1 - c0;
  return w;
}

struct JournalFigures {
  uint64_t accepted = 0, syncs = 0, bytes = 0, write_errors = 0;
  double wall = 0, sync_seconds = 0;
  // Over whole phases from idle to idle, where every accepted message's records (its packet, and
  // its deletion once the peer acknowledged it) were written: bytes per message.
  uint64_t phase_accepted = 0, phase_bytes = 0;
  void add_phase(const Snapshot& a, const Snapshot& b) {
    phase_accepted += b.accepted - a.accepted;
    phase_bytes += b.bytes - a.bytes;
  }
  void add(const Snapshot& a, const Snapshot& b) {
    accepted += b.accepted - a.accepted;
    syncs += b.syncs - a.syncs;
    bytes += b.bytes - a.bytes;
    write_errors += b.write_errors - a.write_errors;
    sync_seconds += b.sync_seconds - a.sync_seconds;
    wall += b.written_at - a.written_at;
  }
  double bytes_per_msg() const {
    return phase_accepted ? static_cast<double>(phase_bytes) / static_cast<double>(phase_accepted) : 0;
  }
  double syncs_per_s() const { return wall > 0 ? static_cast<double>(syncs) / wall : 0; }
  double msgs_per_sync() const { return syncs ? static_cast<double>(accepted) / static_cast<double>(syncs) : 0; }
  double bytes_per_sync() const { return syncs ? static_cast<double>(bytes) / static_cast<double>(syncs) : 0; }
  double mean_sync_ms() const { return syncs ? sync_seconds / static_cast<double>(syncs) * 1e3 : 0; }
  // Share of the time a group was being written: near 1, the next group waits for the disk.
  double busy() const { return wall > 0 ? sync_seconds / wall : 0; }
};

struct ThroughputResult {
  bool ok = false;
  double off = 0, on = 0;
  JournalFigures journal;
  std::string journal_dir;  // of the journal-on relay, for the raw loop
  double fraction_of_raw = 0;  // the journal's syncs/s over the raw loop's at the same batch size
  double fraction_of_implied = 0;
};

// ---- 2. The disk's own bound ------------------------------------------------------------------

struct RawResult {
  uint64_t syncs = 0;
  double seconds = 0, mean_ms = 0, p50_ms = 0, p99_ms = 0;
  double syncs_per_s() const { return seconds > 0 ? static_cast<double>(syncs) / seconds : 0; }
};

bool write_all_at(int fd, const uint8_t* p, std::size_t n, off_t at) {
  while (n > 0) {
    const ssize_t w = ::pwrite(fd, p, n, at);
    if (w <= 0) return false;
    p += w;
    n -= static_cast<std::size_t>(w);
    at += w;
  }
  return true;
}

// Writes `batch` bytes and calls fdatasync, again and again for `seconds`, in a file in `dir`.
// append: like a RocksDB write-ahead log, to the end of a file preallocated with
// FALLOC_FL_KEEP_SIZE (so every sync also commits the file's new size), starting a new file every
// 64 MiB (a WAL is replaced when its 64 MiB memtable is flushed). overwrite: in place, within a
// file written and synced beforehand (no metadata to commit: the device's own flush).
RawResult raw_sync_loop(const std::string& dir, std::size_t batch, double seconds, bool overwrite) {
  constexpr off_t kFileBytes = 64 << 20;
  const std::string path = dir + "/veil-bench-raw-sync.tmp";
  Bytes buf(std::max<std::size_t>(batch, 1));
  SystemRng rng;
  rng.fill(buf);
  RawResult r;
  int fd = -1;
  off_t pos = 0;
  auto open_new = [&] {
    if (fd >= 0) ::close(fd);
    ::unlink(path.c_str());
    fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    pos = 0;
    if (fd < 0) return false;
    if (!overwrite) {
      (void)::fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, kFileBytes * 11 / 10);
      return true;
    }
    for (off_t at = 0; at < kFileBytes + static_cast<off_t>(buf.size()); at += static_cast<off_t>(buf.size()))
      if (!write_all_at(fd, buf.data(), buf.size(), at)) return false;
    return ::fsync(fd) == 0;
  };
  if (!open_new()) {
    if (fd >= 0) ::close(fd);
    return r;
  }
  std::vector<double> lat_ms;
  const int64_t start = steady_ns();
  int64_t now = start;
  while (now - start < static_cast<int64_t>(seconds * 1e9)) {
    if (pos + static_cast<off_t>(buf.size()) > kFileBytes) {
      if (overwrite) {
        pos = 0;
      } else if (!open_new()) {
        break;
      }
    }
    const int64_t t0 = steady_ns();
    if (!write_all_at(fd, buf.data(), buf.size(), pos) || ::fdatasync(fd) != 0) break;
    now = steady_ns();
    pos += static_cast<off_t>(buf.size());
    lat_ms.push_back(static_cast<double>(now - t0) / 1e6);
  }
  r.seconds = static_cast<double>(now - start) / 1e9;
  ::close(fd);
  ::unlink(path.c_str());
  r.syncs = lat_ms.size();
  double sum = 0;
  for (double x : lat_ms) sum += x;
  r.mean_ms = lat_ms.empty() ? 0 : sum / static_cast<double>(lat_ms.size());
  r.p50_ms = quantile(lat_ms, 0.5);
  r.p99_ms = quantile(lat_ms, 0.99);
  return r;
}

std::string fs_type(const std::string& dir) {
  struct statfs f {};
  if (::statfs(dir.c_str(), &f) != 0) return "?";
  switch (f.f_type) {
    case 0xEF53: return "ext4";
    case 0x58465342: return "xfs";
    case 0x9123683E: return "btrfs";
    case 0x01021994: return "tmpfs";
    case 0x794C7630: return "overlayfs";
    default: {
      char hex[24];
      std::snprintf(hex, sizeof hex, "0x%lx", static_cast<unsigned long>(f.f_type));
      return hex;
    }
  }
}

// ---- 1 and 2 ----------------------------------------------------------------------------------

ThroughputResult throughput_and_bound(const JournalBenchOptions& o, const std::vector<Bytes>& frames,
                                      int& rc) {
  ThroughputResult out;
  RelaySetup off("relay-journal-off", true, relay_settings(false, 0));
  RelaySetup on("relay-journal-on", true, relay_settings(true, o.commit_window_ms));
  off.start(o.cores);
  on.start(o.cores);
  uint64_t accepted_off = 0, accepted_on = 0, rejected = 0;
  std::vector<Window> offs, ons;
  json rounds = json::array();
  const std::string load_before = load_average();
  for (int r = 0; r < o.rounds; ++r) {
    // Order off, on in even rounds and on, off in odd ones: a drift within a round or a window that
    // pays for the previous one's leftovers falls on both sides.
    Window w_off, w_on;
    if (r % 2 == 0) {
      w_off = sidecar_window(off, frames, o.seconds, o.window, accepted_off);
      w_on = sidecar_window(on, frames, o.seconds, o.window, accepted_on);
    } else {
      w_on = sidecar_window(on, frames, o.seconds, o.window, accepted_on);
      w_off = sidecar_window(off, frames, o.seconds, o.window, accepted_off);
    }
    rejected += w_off.rejected + w_on.rejected;
    offs.push_back(w_off);
    ons.push_back(w_on);
    JournalFigures jf;
    jf.add(w_on.m0, w_on.m1);
    jf.add_phase(w_on.q0, w_on.q1);
    rounds.push_back({{"off_msgs_per_s", round_to(w_off.rate(), 0)},
                      {"on_msgs_per_s", round_to(w_on.rate(), 0)},
                      {"ratio", round_to(w_off.rate() > 0 ? w_on.rate() / w_off.rate() : 0, 3)},
                      {"off_relay_cores", round_to(w_off.relay_cpu / w_off.seconds, 2)},
                      {"on_relay_cores", round_to(w_on.relay_cpu / w_on.seconds, 2)},
                      {"on_syncs_per_s", round_to(jf.syncs_per_s(), 0)},
                      {"on_msgs_per_sync", round_to(jf.msgs_per_sync(), 1)},
                      {"on_mean_sync_ms", round_to(jf.mean_sync_ms(), 3)},
                      {"on_journal_busy", round_to(jf.busy(), 3)}});
  }
  const bool drained = wait_for(*off.sink, accepted_off, 10) && wait_for(*on.sink, accepted_on, 10);
  const uint64_t lost = (accepted_off > off.sink->packets() ? accepted_off - off.sink->packets() : 0) +
                        (accepted_on > on.sink->packets() ? accepted_on - on.sink->packets() : 0);
  auto total_rate = [](const std::vector<Window>& ws) {
    double n = 0, t = 0;
    for (const Window& w : ws) {
      n += static_cast<double>(w.delivered);
      t += w.seconds;
    }
    return t > 0 ? n / t : 0;
  };
  auto cores_used = [](const std::vector<Window>& ws) {
    double c = 0, t = 0;
    for (const Window& w : ws) {
      c += w.relay_cpu;
      t += w.seconds;
    }
    return t > 0 ? c / t : 0;
  };
  // Where the CPU goes: cores used by role over the windows, and CPU microseconds per message.
  auto cpu_json = [](const std::vector<Window>& ws) {
    double t = 0, n = 0, loop = 0, workers = 0, rocksdb = 0, bench = 0;
    for (const Window& w : ws) {
      t += w.seconds;
      n += static_cast<double>(w.delivered);
      loop += w.threads.loop;
      workers += w.threads.workers;
      rocksdb += w.threads.rocksdb;
      bench += w.bench_cpu;
    }
    const double per = n > 0 ? 1e6 / n : 0;
    return json{{"loop_cores", round_to(loop / t, 2)},
                {"worker_cores", round_to(workers / t, 2)},
                {"rocksdb_bg_cores", round_to(rocksdb / t, 2)},
                {"bench_cores", round_to(bench / t, 2)},
                {"relay_us_per_msg", round_to((loop + workers + rocksdb) * per, 2)},
                {"loop_us_per_msg", round_to(loop * per, 2)},
                {"worker_us_per_msg", round_to(workers * per, 2)},
                {"rocksdb_bg_us_per_msg", round_to(rocksdb * per, 2)}};
  };
  out.off = total_rate(offs);
  out.on = total_rate(ons);
  for (const Window& w : ons) {
    out.journal.add(w.m0, w.m1);
    out.journal.add_phase(w.q0, w.q1);
  }
  std::vector<double> ratios;
  for (std::size_t i = 0; i < ons.size(); ++i) ratios.push_back(ons[i].rate() / std::max(offs[i].rate(), 1.0));
  const auto [rmin, rmax] = std::minmax_element(ratios.begin(), ratios.end());
  const JournalFigures& jf = out.journal;
  print({{"impl", "veil"},
         {"op", "journal_sidecar_throughput"},
         {"cores", o.cores},
         {"window_s", o.seconds},
         {"rounds", o.rounds},
         {"in_flight", o.window},
         {"off_msgs_per_s", round_to(out.off, 0)},
         {"on_msgs_per_s", round_to(out.on, 0)},
         {"ratio_on_off", round_to(out.off > 0 ? out.on / out.off : 0, 3)},
         {"ratio_min", round_to(ratios.empty() ? 0 : *rmin, 3)},
         {"ratio_max", round_to(ratios.empty() ? 0 : *rmax, 3)},
         {"off_relay_cores", round_to(cores_used(offs), 2)},
         {"on_relay_cores", round_to(cores_used(ons), 2)},
         {"off_cpu", cpu_json(offs)},
         {"on_cpu", cpu_json(ons)},
         {"journal_bytes_per_msg", round_to(jf.bytes_per_msg(), 1)},
         {"journal_syncs_per_s", round_to(jf.syncs_per_s(), 1)},
         {"journal_msgs_per_sync", round_to(jf.msgs_per_sync(), 1)},
         {"journal_bytes_per_sync", round_to(jf.bytes_per_sync(), 0)},
         {"journal_mean_sync_ms", round_to(jf.mean_sync_ms(), 3)},
         {"journal_busy", round_to(jf.busy(), 3)},
         {"journal_write_errors", jf.write_errors},
         {"commit_window_ms", o.commit_window_ms},
         {"rejected", rejected},
         {"lost", lost},
         {"load_before", load_before},
         {"load_after", load_average()},
         {"per_round", rounds},
         {"note", "closed loop (in_flight submissions unanswered at most) through one veil-relay, submit SSv1 -> pairwise layer -> "
                  "peer, mix none, 4096 B packets; journal off (run_without_journal) and on "
                  "(RocksDB) alternate, each window 0.5 s after its load starts; journal figures over "
                  "the on-windows from the relay's metrics; busy = sync_seconds / wall"}});
  if (!drained || lost != 0 || rejected != 0) rc |= 1;
  out.ok = jf.syncs > 0;
  out.journal_dir = on.journal_dir();
  if (!out.ok) return out;

  // 2. The raw loop, in the journal's directory, at the journal's mean batch size; the relays are
  // idle (settled) meanwhile.
  wait_idle(on.relay->pid());
  wait_idle(off.relay->pid());
  const auto batch = static_cast<std::size_t>(jf.bytes_per_sync());
  const RawResult append = raw_sync_loop(out.journal_dir, batch, o.raw_seconds, false);
  const RawResult overwrite = raw_sync_loop(out.journal_dir, batch, std::max(1.0, o.raw_seconds / 2), true);
  constexpr std::size_t kBig = 4 << 20;
  const RawResult big = raw_sync_loop(out.journal_dir, kBig, 1, false);
  const double big_mb_s = big.syncs_per_s() * static_cast<double>(kBig) / 1e6;
  const double implied = append.syncs_per_s() * jf.msgs_per_sync();
  const double fraction = append.syncs_per_s() > 0 ? jf.syncs_per_s() / append.syncs_per_s() : 0;
  out.fraction_of_raw = fraction;
  out.fraction_of_implied = implied > 0 ? out.on / implied : 0;
  print({{"impl", "veil"},
         {"op", "journal_disk_bound"},
         {"dir_fs", fs_type(out.journal_dir)},
         {"batch_bytes", batch},
         {"raw_append_syncs_per_s", round_to(append.syncs_per_s(), 1)},
         {"raw_append_mean_ms", round_to(append.mean_ms, 3)},
         {"raw_append_p50_ms", round_to(append.p50_ms, 3)},
         {"raw_append_p99_ms", round_to(append.p99_ms, 3)},
         {"raw_overwrite_syncs_per_s", round_to(overwrite.syncs_per_s(), 1)},
         {"raw_overwrite_mean_ms", round_to(overwrite.mean_ms, 3)},
         {"raw_4mib_append_mb_per_s", round_to(big_mb_s, 1)},
         {"journal_syncs_per_s", round_to(jf.syncs_per_s(), 1)},
         {"journal_mean_sync_ms", round_to(jf.mean_sync_ms(), 3)},
         {"journal_msgs_per_sync", round_to(jf.msgs_per_sync(), 1)},
         {"fraction_of_raw_syncs", round_to(fraction, 3)},
         {"implied_msgs_per_s", round_to(implied, 0)},
         {"on_msgs_per_s", round_to(out.on, 0)},
         {"on_fraction_of_implied", round_to(implied > 0 ? out.on / implied : 0, 3)},
         {"bandwidth_bound_msgs_per_s", round_to(jf.bytes_per_msg() > 0 ? big_mb_s * 1e6 / jf.bytes_per_msg() : 0, 0)},
         {"load_after", load_average()},
         {"note", "raw loop in the journal's directory: write batch_bytes + fdatasync, back to back; "
                  "append: to a file preallocated with FALLOC_FL_KEEP_SIZE, new file every 64 MiB "
                  "(as a RocksDB WAL); overwrite: in place in a synced file; implied = raw append "
                  "syncs/s x the journal's msgs per sync; bandwidth bound = 4 MiB appends' MB/s / "
                  "journal bytes per msg"}});
  return out;
}

// ---- 3. Added latency at 1,000 msg/s ----------------------------------------------------------

struct LatencyWindow {
  std::vector<double> lat_us;
  uint64_t sent = 0, accepted = 0;
};

LatencyWindow latency_window(RelaySetup& s, const std::vector<Bytes>& frames, double seconds,
                             uint64_t& accepted_total) {
  wait_idle(s.relay->pid());
  const std::size_t n0 = s.sink->arrivals().size();
  std::vector<int64_t> sends;
  sends.reserve(static_cast<std::size_t>(seconds * 1000 + 100));
  std::atomic<bool> stop{false};
  PipelineResult result;
  std::thread gen([&] { result = run_submitter(s.nodes[0].submit_port, frames, stop, 1 << 20, 1000, &sends); });
  sleep_s(seconds);
  stop = true;
  gen.join();
  accepted_total += result.accepted;
  wait_for(*s.sink, accepted_total, 5);
  const auto arrivals = s.sink->arrivals();
  LatencyWindow w;
  w.sent = result.sent;
  w.accepted = result.accepted;
  for (std::size_t i = 0; i < sends.size() && n0 + i < arrivals.size(); ++i)
    w.lat_us.push_back(static_cast<double>(arrivals[n0 + i] - sends[i]) / 1000.0);
  return w;
}

struct LatencyResult {
  bool ok = false;
  double p50_off = 0, p99_off = 0, p50_on = 0, p99_on = 0;
  JournalFigures journal;
};

LatencyResult latency(const JournalBenchOptions& o, const std::vector<Bytes>& frames, int& rc) {
  LatencyResult out;
  RelaySetup off("latency-journal-off", true, relay_settings(false, 0));
  RelaySetup on("latency-journal-on", true, relay_settings(true, o.commit_window_ms));
  off.start(o.latency_cores);
  on.start(o.latency_cores);
  off.sink->record(true);
  on.sink->record(true);
  uint64_t acc_off = 0, acc_on = 0;
  (void)latency_window(off, frames, 0.5, acc_off);  // warm-up, not counted
  (void)latency_window(on, frames, 0.5, acc_on);
  std::vector<double> all_off, all_on;
  json per_window = json::array();
  uint64_t sent = 0, accepted = 0;
  const std::string load_before = load_average();
  for (int r = 0; r < o.latency_rounds; ++r) {
    for (int k = 0; k < 2; ++k) {
      const bool journal = (k == 0) == (r % 2 == 1);  // off, on; on, off; ...
      RelaySetup& s = journal ? on : off;
      wait_idle(s.relay->pid());
      const Snapshot m0 = journal ? fresh_snapshot(s) : Snapshot{};
      const LatencyWindow w = latency_window(s, frames, o.latency_seconds, journal ? acc_on : acc_off);
      if (journal) {
        wait_idle(s.relay->pid());
        const Snapshot m1 = fresh_snapshot(s);
        out.journal.add(m0, m1);
        out.journal.add_phase(m0, m1);
      }
      sent += w.sent;
      accepted += w.accepted;
      auto& all = journal ? all_on : all_off;
      all.insert(all.end(), w.lat_us.begin(), w.lat_us.end());
      per_window.push_back({{"journal", journal},
                            {"samples", w.lat_us.size()},
                            {"p50_us", round_to(quantile(w.lat_us, 0.5), 0)},
                            {"p99_us", round_to(quantile(w.lat_us, 0.99), 0)}});
    }
  }
  const uint64_t lost = (acc_off > off.sink->packets() ? acc_off - off.sink->packets() : 0) +
                        (acc_on > on.sink->packets() ? acc_on - on.sink->packets() : 0);
  out.p50_off = quantile(all_off, 0.5);
  out.p99_off = quantile(all_off, 0.99);
  out.p50_on = quantile(all_on, 0.5);
  out.p99_on = quantile(all_on, 0.99);
  auto max_of = [](const std::vector<double>& v) { return v.empty() ? 0.0 : *std::max_element(v.begin(), v.end()); };
  print({{"impl", "veil"},
         {"op", "journal_added_latency"},
         {"rate", 1000},
         {"cores", o.latency_cores},
         {"samples_off", all_off.size()},
         {"samples_on", all_on.size()},
         {"off_p50_us", round_to(out.p50_off, 0)},
         {"off_p99_us", round_to(out.p99_off, 0)},
         {"off_max_us", round_to(max_of(all_off), 0)},
         {"on_p50_us", round_to(out.p50_on, 0)},
         {"on_p99_us", round_to(out.p99_on, 0)},
         {"on_max_us", round_to(max_of(all_on), 0)},
         {"p99_added_by_journal_us", round_to(out.p99_on - out.p99_off, 0)},
         {"journal_msgs_per_sync", round_to(out.journal.msgs_per_sync(), 2)},
         {"journal_mean_sync_ms", round_to(out.journal.mean_sync_ms(), 3)},
         {"journal_bytes_per_msg", round_to(out.journal.bytes_per_msg(), 1)},
         {"commit_window_ms", o.commit_window_ms},
         {"sent", sent},
         {"accepted", accepted},
         {"lost", lost},
         {"load_before", load_before},
         {"load_after", load_average()},
         {"per_window", per_window},
         {"note", "open loop 1,000 msg/s, submit sent -> packet received by the peer, mix none; "
                  "journal off and on alternate; two loopback TCP hops included"}});
  if (lost != 0 || accepted != sent) rc |= 1;
  out.ok = !all_on.empty() && !all_off.empty();
  return out;
}

// ---- 4. Recovery ------------------------------------------------------------------------------

struct DiskUse {
  uint64_t allocated = 0, apparent = 0;
  int wal_files = 0, table_files = 0;
  uint64_t wal_bytes = 0, table_bytes = 0;
};

DiskUse disk_use(const std::string& dir) {
  DiskUse d;
  std::error_code ec;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir, ec)) {
    struct stat st {};
    if (::lstat(e.path().c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    d.allocated += static_cast<uint64_t>(st.st_blocks) * 512;
    d.apparent += static_cast<uint64_t>(st.st_size);
    const std::string ext = e.path().extension().string();
    if (ext == ".log") {
      ++d.wal_files;
      d.wal_bytes += static_cast<uint64_t>(st.st_size);
    } else if (ext == ".sst") {
      ++d.table_files;
      d.table_bytes += static_cast<uint64_t>(st.st_size);
    }
  }
  return d;
}

json disk_json(const DiskUse& d) {
  return {{"allocated_bytes", d.allocated}, {"apparent_bytes", d.apparent},
          {"wal_files", d.wal_files},       {"wal_bytes", d.wal_bytes},
          {"table_files", d.table_files},   {"table_bytes", d.table_bytes}};
}

struct RecoveryResult {
  bool ok = false;
  double seconds = 0;
  uint64_t recovered = 0;
  uint64_t disk = 0;
};

RecoveryResult recovery(const JournalBenchOptions& o, const std::vector<Bytes>& frames, int& rc) {
  RecoveryResult out;
  const uint64_t n = o.recover_packets;
  json settings = relay_settings(true, o.commit_window_ms);
  // A threshold far above n: every accepted packet stays in the pool (and in the journal).
  settings["mix"] = {{"strategy", "threshold"}, {"threshold", std::max<uint64_t>(10 * n, 2)}};
  RelaySetup s("relay-recover", true, settings);
  const double empty_start = s.spawn(2);
  const std::string load_before = load_average();
  std::atomic<bool> stop{false};
  const int64_t f0 = steady_ns();
  const PipelineResult fill = run_submitter(s.nodes[0].submit_port, frames, stop, 8192, 0, nullptr, n);
  const double fill_s = static_cast<double>(steady_ns() - f0) / 1e9;
  const Snapshot before = fresh_snapshot(s);
  // Every answer was ACCEPTED only once its packet was durable: kill the relay without a drain.
  ::kill(s.relay->pid(), SIGKILL);
  s.relay.reset();  // reaps it
  const DiskUse disk = disk_use(s.journal_dir());
  std::filesystem::remove(s.metrics_file());
  out.seconds = s.spawn(2, 120000);
  const json ready = json::parse(s.relay->ready_line(), nullptr, false);
  out.recovered = ready.is_object() ? ready.value("packets_recovered", uint64_t{0}) : 0;
  const Snapshot after = fresh_snapshot(s);
  const long rss = rss_kib(s.relay->pid());
  ::kill(s.relay->pid(), SIGKILL);
  s.relay.reset();
  const DiskUse disk_after = disk_use(s.journal_dir());
  out.disk = disk.allocated;
  print({{"impl", "veil"},
         {"op", "journal_recovery"},
         {"packets", n},
         {"accepted", fill.accepted},
         {"rejected", fill.rejected},
         {"fill_seconds", round_to(fill_s, 2)},
         {"fill_msgs_per_s", round_to(static_cast<double>(fill.accepted) / fill_s, 0)},
         {"pool_before_kill", before.pool},
         {"journal_bytes_written", before.bytes},
         {"journal_syncs", before.syncs},
         {"start_empty_journal_s", round_to(empty_start, 3)},
         {"start_to_ready_s", round_to(out.seconds, 3)},
         {"packets_recovered", out.recovered},
         {"pool_after_restart", after.pool},
         {"rss_after_restart_kib", rss},
         {"journal_dir_at_kill", disk_json(disk)},
         {"journal_dir_after_recovery", disk_json(disk_after)},
         {"load_before", load_before},
         {"load_after", load_average()},
         {"note", "threshold mix above the packet count keeps every packet pooled; closed-loop fill "
                  "until every submission is answered, SIGKILL, restart; start_to_ready = spawn -> "
                  "ready line (config, RocksDB open with WAL replay, recovery into the mix, "
                  "listening); relay on 2 cores"}});
  if (fill.accepted != n || out.recovered != n) rc |= 1;
  out.ok = true;
  return out;
}

}  // namespace

bool parse_journal_options(int argc, char** argv, int first, JournalBenchOptions& o) {
  for (int i = first; i < argc; ++i) {
    const std::string a = argv[i];
    const bool more = i + 1 < argc;
    if (a == "--quick") {
      o.quick = true;
    } else if (a == "--only" && more) {
      o.only = argv[++i];
    } else if (a == "--cores" && more) {
      o.cores = std::atoi(argv[++i]);
    } else if (a == "--seconds" && more) {
      o.seconds = std::atof(argv[++i]);
    } else if (a == "--rounds" && more) {
      o.rounds = std::atoi(argv[++i]);
    } else if (a == "--window" && more) {
      o.window = std::strtoull(argv[++i], nullptr, 10);
    } else if (a == "--raw-seconds" && more) {
      o.raw_seconds = std::atof(argv[++i]);
    } else if (a == "--latency-cores" && more) {
      o.latency_cores = std::atoi(argv[++i]);
    } else if (a == "--latency-seconds" && more) {
      o.latency_seconds = std::atof(argv[++i]);
    } else if (a == "--latency-rounds" && more) {
      o.latency_rounds = std::atoi(argv[++i]);
    } else if (a == "--packets" && more) {
      o.recover_packets = std::strtoull(argv[++i], nullptr, 10);
    } else if (a == "--commit-window-ms" && more) {
      o.commit_window_ms = std::atoi(argv[++i]);
    } else {
      std::fprintf(stderr,
                   "usage: veil-bench journal [--only throughput|latency|recovery] [--quick]\n"
                   "  [--cores 1|2] [--seconds S] [--rounds N]        sidecar windows, journal off/on (5 x 2 x 2 s)\n"
                   "  [--window N]                                    sidecar submissions in flight (8192)\n"
                   "  [--raw-seconds S]                               append+fdatasync loop (3 s)\n"
                   "  [--latency-cores 1|2] [--latency-seconds S] [--latency-rounds N]  1,000 msg/s (2 x 2 x 3 s)\n"
                   "  [--packets N]                                   pooled packets to recover (100000)\n"
                   "  [--commit-window-ms MS]                         journal_commit_window_ms (0)\n");
      return false;
    }
  }
  if (o.quick) {
    o.seconds = std::min(o.seconds, 1.0);
    o.rounds = std::min(o.rounds, 2);
    o.raw_seconds = std::min(o.raw_seconds, 1.0);
    o.latency_seconds = std::min(o.latency_seconds, 1.5);
    o.latency_rounds = std::min(o.latency_rounds, 1);
    o.recover_packets = std::min<uint64_t>(o.recover_packets, 20000);
  }
  if (o.cores < 1 || o.cores > 2 || o.latency_cores < 1 || o.latency_cores > 2 || o.rounds < 1 ||
      o.latency_rounds < 1 || o.recover_packets < 1 || o.window < 32 || o.seconds <= 0 || o.latency_seconds <= 0) {
    std::fprintf(stderr, "veil-bench journal: cores 1 or 2, rounds and packets at least 1, window at least 32\n");
    return false;
  }
  return true;
}

int run_journal_bench(const JournalBenchOptions& o) {
  pin_self(0, 1);  // load generator and sinks: core 0, including every thread started from here
  SystemRng rng;
  const std::vector<Bytes> frames = submission_frames(2000, rng);
  const int64_t start = steady_ns();
  int rc = 0;
  json summary = {{"impl", "veil"}, {"op", "journal_summary"}, {"load_before", load_average()}};
  try {
    if (o.only.empty() || o.only == "throughput") {
      const ThroughputResult t = throughput_and_bound(o, frames, rc);
      summary["sidecar_ratio_on_off"] = {{"value", round_to(t.off > 0 ? t.on / t.off : 0, 3)},
                                         {"target", ">= 0.50"},
                                         {"met", t.off > 0 && t.on / t.off >= 0.5}};
      summary["journal_fraction_of_disk_bound"] = {{"value", round_to(t.fraction_of_raw, 3)},
                                                   {"on_msgs_over_implied", round_to(t.fraction_of_implied, 3)},
                                                   {"target", ">= 0.70"},
                                                   {"met", t.fraction_of_raw >= 0.7}};
      if (!t.ok) rc |= 1;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "veil-bench journal: throughput: %s\n", e.what());
    rc |= 1;
  }
  try {
    if (o.only.empty() || o.only == "latency") {
      const LatencyResult l = latency(o, frames, rc);
      summary["latency_p99_on_us"] = {{"value", round_to(l.p99_on, 0)}, {"target", "<= 5000"},
                                      {"met", l.ok && l.p99_on <= 5000}};
      if (!l.ok) rc |= 1;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "veil-bench journal: latency: %s\n", e.what());
    rc |= 1;
  }
  try {
    if (o.only.empty() || o.only == "recovery") {
      const RecoveryResult r = recovery(o, frames, rc);
      summary["recovery_seconds"] = {{"value", round_to(r.seconds, 3)}, {"packets", r.recovered},
                                     {"target", "<= 2"}, {"met", r.ok && r.seconds <= 2}};
      summary["journal_dir_bytes"] = r.disk;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "veil-bench journal: recovery: %s\n", e.what());
    rc |= 1;
  }
  summary["load_after"] = load_average();
  summary["wall_seconds"] = round_to(static_cast<double>(steady_ns() - start) / 1e9, 1);
  print(summary);
  return rc;
}

}  // namespace veil::bench
