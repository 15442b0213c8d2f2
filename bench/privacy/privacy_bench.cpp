// veil-bench privacy: plan the sweep, run each point on real relays, score it, write the results.
#include "bench/privacy/privacy_bench.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <thread>

#include "bench/privacy/anonymity.h"
#include "bench/privacy/ideal.h"
#include "bench/privacy/run_point.h"
#include "bench/privacy/workload.h"
#include "proxy/relay/core/mix.h"

#ifndef VEIL_PRIVACY_PLOT_SCRIPT
#define VEIL_PRIVACY_PLOT_SCRIPT "bench/plot_privacy.gp"
#endif

namespace veil::bench {
namespace {

namespace pv = privacy;
using Clock = std::chrono::steady_clock;
using nlohmann::json;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

const char* const kQuickGrid =
    "none,poisson=50/200,threshold=16/256,timed=100,threshold_or_timed=200,binomial=100:0.5";
const char* const kFullGrid =
    "none,poisson=10/50/100/200/500/1000,threshold=4/16/64/256/1024,timed=20/100/300/1000,"
    "threshold_or_timed=50/200/500,binomial=50:0.5/200:0.5/100:0.2";

// One point of the plan.
struct PointSpec {
  std::string strategy;
  std::string label;  // the parameters, e.g. "d=200ms"
  json mix;
  relay::MixConfig mc;
  double rate = 0;
  double tau = 0;  // the strategy's timescale (s)
  double gap = 0;  // the adversary's flush-grouping gap (s)
  pv::Model model = pv::Model::pool;
  double mean_delay_s = 0, threshold = 0, interval_s = 0, p = 1;
  double warm = 0, window = 0, guard = 0, drain = 0, send = 0;
  bool sda_scenario = false;
};

double clamp(double x, double lo, double hi) { return std::max(lo, std::min(hi, x)); }

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  std::istringstream in(s);
  while (std::getline(in, cur, sep)) {
    if (!cur.empty()) out.push_back(cur);
  }
  return out;
}

std::string fmt(double v, int prec = 1) {
  if (std::isnan(v)) return "—";
  char b[64];
  std::snprintf(b, sizeof b, "%.*f", prec, v);
  return b;
}

std::string num(double v) {  // compact number for labels
  char b[32];
  std::snprintf(b, sizeof b, "%g", v);
  return b;
}

// Builds a point for `strategy` with parameter text `value` at `rate`; nullopt (with `why`) if
// the combination is pointless or too slow at this load.
std::optional<PointSpec> make_spec(const std::string& strategy, const std::string& value, double rate,
                                   double cover, std::string& why) {
  PointSpec s;
  s.strategy = strategy;
  s.rate = rate;
  const double total = rate + cover;
  auto v = split(value, ':');
  auto get = [&](std::size_t i) { return i < v.size() ? std::atof(v[i].c_str()) : 0.0; };
  auto parsed = relay::parse_strategy(strategy);
  if (!parsed) {
    why = "unknown strategy";
    return std::nullopt;
  }
  s.mc.strategy = *parsed;
  if (strategy == "none") {
    s.mix = {{"strategy", "none"}};
    s.label = "-";
    s.tau = 0.005;  // pool model with every output on its own; FIFO linking reported beside it
  } else if (strategy == "poisson") {
    const double d = get(0) / 1000.0;
    if (d <= 0) return why = "mean delay must be > 0", std::nullopt;
    if (rate * d < 1) return why = "λ·d < 1", std::nullopt;
    s.mix = {{"strategy", "poisson"}, {"mean_delay_ms", get(0)}};
    s.mc.mean_delay = static_cast<veil::Micros>(d * 1e6);
    s.mean_delay_s = d;
    s.label = "d=" + num(get(0)) + "ms";
    s.tau = d;
  } else if (strategy == "threshold") {
    const double k = std::round(get(0));
    if (k < 2) return why = "k < 2", std::nullopt;
    if (k / total > 2.0) return why = "k/λ > 2 s", std::nullopt;
    s.mix = {{"strategy", "threshold"}, {"threshold", static_cast<std::size_t>(k)}};
    s.mc.threshold = static_cast<std::size_t>(k);
    s.threshold = k;
    s.label = "k=" + num(k);
    s.tau = k / total;
    s.gap = clamp(0.25 * s.tau, 0.0002, 0.25);
  } else if (strategy == "timed" || strategy == "binomial") {
    const double t = get(0) / 1000.0;
    const double p = strategy == "timed" ? 1.0 : get(1);
    if (t <= 0 || p <= 0 || p > 1) return why = "bad interval/probability", std::nullopt;
    if (rate * t < 1) return why = "λ·T < 1", std::nullopt;
    if (t > 2.0) return why = "T > 2 s", std::nullopt;
    s.mix = {{"strategy", strategy}, {"interval_ms", get(0)}};
    if (strategy == "binomial") s.mix["probability"] = p;
    s.mc.interval = static_cast<veil::Micros>(t * 1e6);
    s.mc.probability = p;
    s.interval_s = t;
    s.p = p;
    s.label = "T=" + num(get(0)) + "ms" + (strategy == "binomial" ? ",p=" + num(p) : "");
    s.tau = t / p;
    s.gap = clamp(0.25 * t, 0.0002, 0.25);
  } else if (strategy == "threshold_or_timed") {
    double k = 0, t = 0;
    if (v.size() >= 2) {
      k = std::round(get(0));
      t = get(1) / 1000.0;
    } else {
      t = get(0) / 1000.0;
      k = std::max(2.0, std::round(rate * t));
    }
    if (k < 2 || t <= 0) return why = "bad k/T", std::nullopt;
    if (t > 2.0) return why = "T > 2 s", std::nullopt;
    s.mix = {{"strategy", "threshold_or_timed"}, {"threshold", static_cast<std::size_t>(k)}, {"interval_ms", t * 1000}};
    s.mc.threshold = static_cast<std::size_t>(k);
    s.mc.interval = static_cast<veil::Micros>(t * 1e6);
    s.threshold = k;
    s.interval_s = t;
    s.label = "k=" + num(k) + ",T=" + num(t * 1000) + "ms";
    s.tau = std::min(k / total, t);
    s.gap = clamp(0.25 * s.tau, 0.0002, 0.25);
  } else {
    why = "unsupported";
    return std::nullopt;
  }
  return s;
}

// Fills warm-up, window, guard and drain for a point.
void size_point(PointSpec& s, bool quick, double duration, std::size_t cap) {
  const double warm_cap = quick ? 1.0 : 3.0;
  s.warm = clamp(4 * s.tau, 0.3, warm_cap);
  s.guard = s.warm;
  s.drain = std::max(0.3, s.warm);
  // Exponential tails: give the window's last messages 8 mean delays to leave (e^-8 ≈ 3·10^-4).
  if (s.strategy == "poisson") s.drain = std::max(s.drain, 8 * s.mean_delay_s - s.guard);
  double window = duration > 0 ? duration : (quick ? 1.5 : clamp(1500.0 / s.rate, 4.0, 8.0));
  if (s.sda_scenario) window = duration > 0 ? duration : (quick ? 6.0 : 20.0);
  const double max_send = static_cast<double>(cap) / (1.08 * s.rate);
  if (s.warm + window + s.guard > max_send) window = std::max(1.0, max_send - s.warm - s.guard);
  s.window = window;
  s.send = s.warm + s.window + s.guard;
}

// A progress bar on stderr (a line per point when stderr is not a terminal).
class Progress {
 public:
  Progress(std::size_t points, double estimate)
      : points_(points), total_(estimate), start_(Clock::now()), tty_(::isatty(2) != 0) {}
  void begin(const std::string& label, double estimate) {
    label_ = label;
    cur_ = estimate;
    ++index_;
    if (!tty_) {
      std::fprintf(stderr, "[%zu/%zu] %s ...\n", index_, points_, label.c_str());
    }
    draw(0);
  }
  void update(double frac) { draw(frac); }
  void end() {
    done_ += cur_;
    draw(0);
  }
  void finish() {
    if (tty_) std::fprintf(stderr, "\n");
  }

 private:
  void draw(double frac) {
    if (!tty_) return;
    const double elapsed = std::chrono::duration<double>(Clock::now() - start_).count();
    const double est_done = done_ + frac * cur_;
    const double f = total_ > 0 ? std::min(1.0, est_done / total_) : 0;
    const double eta = f > 0.02 ? elapsed / f - elapsed : total_ - elapsed;
    const int width = 30;
    const int fill = static_cast<int>(f * width);
    std::string bar(static_cast<std::size_t>(fill), '=');
    if (fill < width) bar += '>';
    bar.resize(width, ' ');
    std::fprintf(stderr, "\r[%s] %3.0f%% %zu/%zu %-40.40s %3.0f:%02.0f eta %3.0f:%02.0f ", bar.c_str(),
                 f * 100, index_, points_, label_.c_str(), std::floor(elapsed / 60), std::fmod(elapsed, 60.0),
                 std::floor(std::max(0.0, eta) / 60), std::fmod(std::max(0.0, eta), 60.0));
    std::fflush(stderr);
  }
  std::size_t points_;
  double total_;
  Clock::time_point start_;
  bool tty_;
  std::size_t index_ = 0;
  double done_ = 0, cur_ = 0;
  std::string label_;
};

const std::vector<std::string> kCsvColumns = {
    "load", "strategy", "params", "offered_rate", "sent_rate", "achieved_rate", "accepted", "rejected",
    "missing", "lat_drift_ms", "lat_p50_ms", "lat_p95_ms", "lat_p99_ms", "e2e_p99_ms", "H_mean", "H_p5", "H_sender_mean",
    "H_sender_p5", "degree", "Hmin_mean", "link_rate", "fifo_link_rate", "surprisal_mean", "model_misses", "pool_mean",
    "H_analytic", "gap_analytic", "H_ideal", "gap_ideal", "link_ideal", "lat_p99_ideal_ms",
    "size_H_raw", "size_H_160", "size_gain_raw", "size_gain_160", "size_mi_captured", "frame_sizes",
    "cover_packets", "real_packets", "cover_pkt_ratio", "cover_byte_ratio", "pad_factor",
    "sda_alice_rounds", "sda_rounds_needed", "sda_msgs_needed", "gen_lateness_p99_ms", "window_s",
    "sustained", "note", "wall_s"};

std::string csv_cell(const json& v) {
  if (v.is_null()) return "";
  if (v.is_string()) {
    std::string s = v.get<std::string>();
    if (s.find_first_of(",\"") != std::string::npos) {
      std::string q = "\"";
      for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
      return q + "\"";
    }
    return s;
  }
  if (v.is_number_float()) {
    const double d = v.get<double>();
    if (std::isnan(d)) return "";
    char b[64];
    std::snprintf(b, sizeof b, "%.6g", d);
    return b;
  }
  return v.dump();
}

double jnum(const json& row, const char* k) {
  auto it = row.find(k);
  if (it == row.end() || it->is_null()) return kNaN;
  return it->get<double>();
}

// Scores one run into a result row.
json score_point(const PointSpec& s, const pv::RunResult& rr, const std::vector<pv::MessageFacts>& facts,
                 const PrivacyOptions& o, double wall_s) {
  json row;
  row["load"] = s.rate;
  row["strategy"] = s.strategy;
  row["params"] = s.label;
  row["offered_rate"] = s.rate;
  row["wall_s"] = wall_s;
  if (!rr.error.empty()) {
    row["sustained"] = false;
    row["note"] = "run failed: " + rr.error;
    return row;
  }
  double wb = s.warm, we = rr.send_end - s.guard;
  if (we <= wb + 0.2) {
    wb = 0;
    we = rr.send_end;
  }
  const double wlen = we - wb;
  row["window_s"] = wlen;
  const double covers = o.cover_drop + o.cover_loop;

  // Latency and throughput over inputs sent in the window; the latency drift between the
  // window's halves shows a relay falling behind (queues growing) even when nothing is lost.
  std::vector<double> lat, e2e, first_half, second_half;
  std::size_t missing = 0, sent_in = 0;
  const double mid = 0.5 * (wb + we);
  for (const auto& in : rr.trace.inputs) {
    if (in.t < wb || in.t >= we) continue;
    ++sent_in;
    const double l = rr.latency_ms[in.msg];
    if (std::isnan(l)) {
      ++missing;
    } else {
      lat.push_back(l);
      (in.t < mid ? first_half : second_half).push_back(l);
    }
    if (!std::isnan(rr.delivery_ms[in.msg])) e2e.push_back(rr.delivery_ms[in.msg]);
  }
  const double sent_rate = static_cast<double>(sent_in) / wlen;
  const double achieved = static_cast<double>(lat.size()) / wlen;  // carried: sent in W and out
  const double drift_ms = pv::percentile(second_half, 0.5) - pv::percentile(first_half, 0.5);
  row["sent_rate"] = sent_rate;
  row["achieved_rate"] = achieved;
  row["lat_drift_ms"] = drift_ms;
  row["accepted"] = rr.accepted;
  row["rejected"] = rr.rejected;
  row["missing"] = missing;
  row["lat_p50_ms"] = pv::percentile(lat, 0.50);
  row["lat_p95_ms"] = pv::percentile(lat, 0.95);
  row["lat_p99_ms"] = pv::percentile(lat, 0.99);
  row["e2e_p99_ms"] = pv::percentile(e2e, 0.99);

  pv::AnalysisParams ap;
  ap.model = s.model;
  ap.burst_gap = s.gap;
  ap.window_begin = wb;
  ap.window_end = we;
  ap.senders = o.senders;
  const pv::AnonymitySummary a = pv::analyze(rr.trace, facts, ap);
  row["H_mean"] = a.h_mean;
  row["H_p5"] = a.h_p5;
  row["H_sender_mean"] = a.hs_mean;
  row["H_sender_p5"] = a.hs_p5;
  row["degree"] = a.degree_mean;
  row["Hmin_mean"] = a.hmin_mean;
  row["link_rate"] = a.link_rate;
  row["surprisal_mean"] = s.model == pv::Model::pool ? a.surprisal_mean : kNaN;
  row["model_misses"] = a.misses;
  row["pool_mean"] = a.pool_mean;
  {
    pv::AnalysisParams fp = ap;
    fp.model = pv::Model::fifo;
    row["fifo_link_rate"] = pv::analyze(rr.trace, facts, fp).link_rate;
  }
  row["scored_outputs"] = a.scored;
  row["flushes"] = a.flushes;

  const double h_an = pv::analytic_entropy(s.strategy, sent_rate, covers, s.mean_delay_s, s.threshold,
                                           s.interval_s, s.p);
  row["H_analytic"] = h_an;
  row["gap_analytic"] = a.h_mean - h_an;

  // Ideal relay: same inputs, same mix code, no processing or link delay.
  try {
    const pv::Trace ideal = pv::ideal_trace(s.mc, rr.trace.inputs, covers, rr.run_end, o.seed + 99);
    const pv::AnonymitySummary ia = pv::analyze(ideal, facts, ap);
    row["H_ideal"] = ia.h_mean;
    row["gap_ideal"] = a.h_mean - ia.h_mean;
    row["link_ideal"] = ia.link_rate;
    std::map<int64_t, double> out_at;
    for (const auto& out : ideal.outputs) {
      if (out.msg >= 0) out_at.emplace(out.msg, out.t);
    }
    std::vector<double> il;
    for (const auto& in : rr.trace.inputs) {
      if (in.t < wb || in.t >= we) continue;
      auto it = out_at.find(in.msg);
      if (it != out_at.end()) il.push_back((it->second - in.t) * 1000.0);
    }
    row["lat_p99_ideal_ms"] = pv::percentile(il, 0.99);
  } catch (const std::exception& e) {
    row["ideal_error"] = e.what();
  }

  // Size leakage before padding, and what the captured sizes reveal after it.
  row["size_H_raw"] = pv::size_entropy(rr.trace, facts, wb, we, 1);
  row["size_H_160"] = pv::size_entropy(rr.trace, facts, wb, we, 160);
  row["size_gain_raw"] = a.h_mean - a.h_size_mean;
  row["size_gain_160"] = a.h_mean - a.h_size160_mean;
  row["size_mi_captured"] = pv::captured_size_mi(rr.trace, facts, wb, we);
  std::string sizes;
  for (uint32_t f : rr.frame_sizes) sizes += (sizes.empty() ? "" : "/") + std::to_string(f);
  row["frame_sizes"] = sizes;
  const std::size_t cover_pk = rr.cover_drop_packets + rr.cover_loop_packets;
  row["cover_packets"] = cover_pk;
  row["real_packets"] = rr.real_packets;
  row["cover_pkt_ratio"] = rr.real_packets ? static_cast<double>(cover_pk) / static_cast<double>(rr.real_packets) : kNaN;
  row["cover_byte_ratio"] = rr.real_bytes ? static_cast<double>(rr.cover_bytes) / static_cast<double>(rr.real_bytes) : kNaN;
  double env_bytes = 0;
  for (const auto& in : rr.trace.inputs) env_bytes += facts[in.msg].envelope_size;
  row["pad_factor"] = env_bytes > 0 && !rr.trace.inputs.empty()
                          ? static_cast<double>(rr.real_bytes) / static_cast<double>(rr.real_packets) /
                                (env_bytes / static_cast<double>(rr.trace.inputs.size()))
                          : kNaN;

  // Statistical disclosure against Alice over this point's window.
  pv::SdaParams sp;
  sp.burst_gap = s.model == pv::Model::pool ? s.gap : 0;
  sp.window = std::max(0.01, 2 * s.mean_delay_s);
  sp.shift = 0.5 * s.mean_delay_s;
  sp.begin = wb;
  sp.end = we;
  for (std::size_t i = 0; i < std::min<std::size_t>(3, o.recipients); ++i) sp.contacts.push_back(static_cast<uint16_t>(i));
  sp.recipients = o.recipients;
  const pv::SdaResult sda = pv::statistical_disclosure(rr.trace, facts, sp);
  row["sda_alice_rounds"] = sda.alice_rounds;
  row["sda_alice_msgs"] = sda.alice_msgs;
  row["sda_rounds"] = sda.rounds;
  row["sda_rounds_needed"] = sda.rounds_needed;
  row["sda_first_correct"] = sda.first_correct;
  row["sda_msgs_needed"] = sda.msgs_needed;
  row["sda_mean_round"] = sda.mean_round;
  row["sda_formula_rounds"] = sda.formula_rounds;
  row["gen_lateness_p99_ms"] = rr.lateness_p99_ms;
  row["gen_lateness_max_ms"] = rr.lateness_max_ms;

  // Did the relay sustain the load? Evidence goes into the note.
  std::vector<std::string> notes;
  if (rr.rejected) {
    std::string r = "rejected " + std::to_string(rr.rejected);
    for (const auto& [k, v] : rr.reject_reasons) r += " " + k + ":" + std::to_string(v);
    notes.push_back(r);
  }
  if (rr.unanswered) notes.push_back("unanswered " + std::to_string(rr.unanswered));
  // A few Poisson-tail stragglers may still be in the pool when the run stops (≤ 0.1% tolerated).
  const bool lost = static_cast<double>(missing) > 0.001 * static_cast<double>(sent_in);
  if (missing) notes.push_back("not out by run end " + std::to_string(missing));
  // Falling behind: the median latency grew by more than half (and 20 ms) within the window.
  const double p50 = jnum(row, "lat_p50_ms");
  const bool drifting = !std::isnan(drift_ms) && drift_ms > std::max(20.0, 0.5 * p50);
  if (drifting) notes.push_back("latency p50 grew " + fmt(drift_ms, 0) + " ms across the window");
  if (sent_rate < 0.9 * s.rate) notes.push_back("load generator reached " + fmt(sent_rate, 0) + "/s");
  if (rr.lateness_p99_ms > 50) notes.push_back("send lag p99 " + fmt(rr.lateness_p99_ms, 0) + " ms");
  if (rr.duplicate_packets) notes.push_back("retransmitted " + std::to_string(rr.duplicate_packets));
  if (rr.unreadable_packets) notes.push_back("unreadable packets " + std::to_string(rr.unreadable_packets));
  if (rr.verify_failed) notes.push_back("delivery check failed " + std::to_string(rr.verify_failed));
  if (a.misses && s.model == pv::Model::pool) notes.push_back("model misses " + std::to_string(a.misses));
  const bool sustained = rr.rejected == 0 && !lost && !drifting && sent_rate >= 0.9 * s.rate &&
                         rr.lateness_p99_ms <= 50;
  row["sustained"] = sustained;
  std::string note;
  for (const auto& n : notes) note += (note.empty() ? "" : "; ") + n;
  row["note"] = note;

  row["run"] = {{"scheduled", rr.scheduled}, {"send_end_s", rr.send_end}, {"run_end_s", rr.run_end},
                {"warm_s", s.warm}, {"guard_s", s.guard}, {"burst_gap_ms", s.gap * 1000},
                {"cover_drop_packets", rr.cover_drop_packets}, {"cover_loop_packets", rr.cover_loop_packets},
                {"duplicates", rr.duplicate_packets}, {"unreadable", rr.unreadable_packets},
                {"deliveries_at_B", rr.deliveries}, {"verified", rr.verified},
                {"verify_failed", rr.verify_failed}, {"mix", s.mix}};
  row["relay_a_metrics"] = rr.metrics_a;
  row["relay_b_counters"] = rr.metrics_b.value("counters", json::object());
  return row;
}

void write_csv(const std::filesystem::path& path, const std::vector<json>& rows) {
  std::ofstream out(path);
  for (std::size_t i = 0; i < kCsvColumns.size(); ++i) out << (i ? "," : "") << kCsvColumns[i];
  out << "\n";
  for (const json& r : rows) {
    for (std::size_t i = 0; i < kCsvColumns.size(); ++i) {
      out << (i ? "," : "");
      auto it = r.find(kCsvColumns[i]);
      if (it != r.end()) out << csv_cell(*it);
    }
    out << "\n";
  }
}

std::string md_row(const json& r) {
  auto g = [&](const char* k, int p) { return fmt(jnum(r, k), p); };
  std::string an = g("H_analytic", 2);
  if (an != "—") an += " (" + (jnum(r, "gap_analytic") >= 0 ? std::string("+") : std::string("")) + g("gap_analytic", 2) + ")";
  std::string id = g("H_ideal", 2);
  if (id != "—") id += " (" + (jnum(r, "gap_ideal") >= 0 ? std::string("+") : std::string("")) + g("gap_ideal", 2) + ")";
  const double link = jnum(r, "link_rate");
  std::ostringstream o;
  o << "| " << r.value("strategy", "") << " | " << r.value("params", "") << " | " << g("sent_rate", 0)
    << " → " << g("achieved_rate", 0) << " | " << g("lat_p50_ms", 1) << " / " << g("lat_p95_ms", 1)
    << " / " << g("lat_p99_ms", 1) << " | " << g("H_mean", 2) << " (" << g("H_p5", 2) << ") | "
    << g("H_sender_mean", 2) << " | " << g("degree", 2) << " | " << g("Hmin_mean", 2) << " | "
    << fmt(std::isnan(link) ? kNaN : link * 100, 1) << "%"
    << (r.value("strategy", "") == "none" ? " (FIFO " + fmt(jnum(r, "fifo_link_rate") * 100, 1) + "%)" : "")
    << " | " << an << " | " << id << " | "
    << g("cover_pkt_ratio", 3) << " | " << (r.value("sustained", false) ? "yes" : "**no**")
    << (r.value("note", std::string()).empty() ? "" : " (" + r.value("note", std::string()) + ")") << " |\n";
  return o.str();
}

std::string markdown(const std::vector<json>& rows, const std::vector<json>& sda_rows, const PrivacyOptions& o,
                     const std::string& command, double wall_s, const json& workload) {
  std::ostringstream md;
  md << "# Veil privacy bench: added latency versus anonymity\n\n";
  md << "Command: `" << command << "` — wall time " << fmt(wall_s, 0) << " s, seed " << o.seed << ".\n\n";
  md << "Setup: real `veil-relay` processes on loopback; provider relay A (submit socket, `mix_hops` 0, "
        "the mix under study, covers " << num(o.cover_drop) << " drop/s + " << num(o.cover_loop)
     << " loop/s) → tap → provider relay B (mix none). " << o.senders << " senders (sender 0 = Alice, "
     << fmt(workload.value("alice_share", 0.0) * 100, 0) << "% of messages, 3 contacts), " << o.recipients
     << " recipients, " << fmt(o.v2_share * 100, 0) << "% SSv2; packets of " << workload.value("packet_size", 0)
     << " B. Entropy is per real output over the adversary's posterior on inputs (mass recursion, "
        "covers known to the adversary), measured after warm-up; latency = first packet on the A→B link "
        "− submit time.\n\n";
  std::map<double, std::vector<const json*>> by_load;
  for (const json& r : rows) by_load[jnum(r, "load")].push_back(&r);
  for (const auto& [load, list] : by_load) {
    md << "## " << num(load) << " msg/s\n\n";
    md << "| strategy | params | sent → carried /s | latency p50 / p95 / p99 ms | H mean (p5) bits | H sender | "
          "degree | H_min | link | analytic (Δ) | ideal (Δ) | cover/real | sustained |\n";
    md << "|---|---|---|---|---|---|---|---|---|---|---|---|---|\n";
    for (const json* r : list) md << md_row(*r);
    md << "\n";
  }
  // Target check.
  md << "## Target: 2,000 msg/s, ≥ 10 bits mean entropy with p99 added latency ≤ 1 s\n\n";
  const json* best = nullptr;
  for (const json& r : rows) {
    if (jnum(r, "load") != 2000 || !r.value("sustained", false)) continue;
    if (jnum(r, "H_mean") >= 10 && jnum(r, "lat_p99_ms") <= 1000) {
      if (!best || jnum(r, "lat_p99_ms") < jnum(*best, "lat_p99_ms")) best = &r;
    }
  }
  if (best) {
    md << "Met by " << best->value("strategy", "") << " " << best->value("params", "") << ": H = "
       << fmt(jnum(*best, "H_mean"), 2) << " bits (sender " << fmt(jnum(*best, "H_sender_mean"), 2)
       << "), p99 = " << fmt(jnum(*best, "lat_p99_ms"), 0) << " ms.\n\n";
  } else {
    md << "Not met by any sustained point at 2,000 msg/s in this run.\n\n";
  }
  md << "Points at 2,000 msg/s with H ≥ 9: ";
  bool any = false;
  for (const json& r : rows) {
    if (jnum(r, "load") == 2000 && jnum(r, "H_mean") >= 9) {
      md << (any ? "; " : "") << r.value("strategy", "") << " " << r.value("params", "") << " H "
         << fmt(jnum(r, "H_mean"), 2) << " p99 " << fmt(jnum(r, "lat_p99_ms"), 0) << " ms";
      any = true;
    }
  }
  md << (any ? ".\n\n" : "none.\n\n");

  // Size leakage.
  md << "## Size leakage\n\n";
  if (!rows.empty()) {
    const json& r = rows.front();
    md << "Envelope sizes before padding: H(size) = " << fmt(jnum(r, "size_H_raw"), 2)
       << " bits exact, " << fmt(jnum(r, "size_H_160"), 2)
       << " bits in 160-byte classes (the most a size can tell about which message a packet is).\n";
    md << "Linking gain if outputs carried their unpadded size (mean entropy lost, bits):\n\n";
    md << "| load | strategy | params | exact size | 160-B classes | captured MI after padding | frame sizes |\n";
    md << "|---|---|---|---|---|---|---|\n";
    for (const json& x : rows) {
      md << "| " << num(jnum(x, "load")) << " | " << x.value("strategy", "") << " | " << x.value("params", "")
         << " | " << fmt(jnum(x, "size_gain_raw"), 2) << " | " << fmt(jnum(x, "size_gain_160"), 2) << " | "
         << fmt(jnum(x, "size_mi_captured"), 3) << " | " << x.value("frame_sizes", "") << " |\n";
    }
    md << "\n";
  }
  if (!sda_rows.empty()) {
    md << "## Statistical disclosure attack (Alice, 3 contacts among " << o.recipients << " recipients)\n\n";
    md << "| strategy | params | load | Alice msgs | rounds (Alice rounds) | mean round | first right | rounds needed | Alice msgs needed | Danezis estimate (1 msg/round, l=2) | H mean | p99 ms |\n";
    md << "|---|---|---|---|---|---|---|---|---|---|---|---|\n";
    for (const json& r : sda_rows) {
      const long fc = r.value("sda_first_correct", -1L);
      const long rn = r.value("sda_rounds_needed", -1L);
      const long mn = r.value("sda_msgs_needed", -1L);
      md << "| " << r.value("strategy", "") << " | " << r.value("params", "") << " | " << num(jnum(r, "load"))
         << " | " << r.value("sda_alice_msgs", 0) << " | " << r.value("sda_rounds", 0) << " ("
         << r.value("sda_alice_rounds", 0) << ") | " << fmt(jnum(r, "sda_mean_round"), 1) << " | "
         << (fc >= 0 ? std::to_string(fc) : std::string("—")) << " | "
         << (rn >= 0 ? std::to_string(rn) : "> " + std::to_string(r.value("sda_alice_rounds", 0))) << " | "
         << (mn >= 0 ? std::to_string(mn) : "> " + std::to_string(r.value("sda_alice_msgs", 0))) << " | "
         << fmt(jnum(r, "sda_formula_rounds"), 0) << " | " << fmt(jnum(r, "H_mean"), 2) << " | "
         << fmt(jnum(r, "lat_p99_ms"), 0) << " |\n";
    }
    md << "\nRounds are observed flushes (batch and pool mixes) or windows of 2·d with outputs taken d/2 "
          "later (Poisson; 10 ms windows for none). \"Rounds needed\" counts Alice's rounds until the top-3 "
          "of the estimate b·ō − (b−1)·u is her contacts and stays so to the end of the run; \"first right\" "
          "until it is her contacts for the first time.\n\n";
  }
  md << "Columns: H = mean Shannon entropy (bits) of the adversary's per-output distribution over inputs "
        "(p5 = 5th percentile); H sender = the same over senders; degree = H sender / log2(" << o.senders
     << "); H_min = min-entropy; link = best-guess linking success; analytic = closed form "
        "(Poisson log2(e·λ·d), threshold log2 k', timed E[log2(1+Pois(λT))], binomial log2(λT)+H2(p)/p) "
        "and Δ = measured − analytic; sent → carried = messages/s submitted in the window and how many "
        "of them came out; ideal = the relay's own mix code in virtual time on the same inputs "
        "with zero processing delay, Δ = measured − ideal; cover/real = cover packets per real packet "
        "on the link.\n";
  return md.str();
}

void write_plot_data(const std::filesystem::path& dir, const std::vector<json>& rows, const PrivacyOptions& o,
                     std::vector<std::pair<double, std::filesystem::path>>& made) {
  // Sustained points form the curves; the others are drawn apart as crosses.
  std::map<double, std::map<std::string, std::vector<std::pair<double, double>>>> data;
  std::map<double, std::vector<std::pair<double, double>>> failed;
  for (const json& r : rows) {
    const double h = jnum(r, "H_mean"), l = jnum(r, "lat_p99_ms");
    if (std::isnan(h) || std::isnan(l)) continue;
    if (r.value("sustained", false)) {
      data[jnum(r, "load")][r.value("strategy", "")].emplace_back(h, std::max(l, 0.01));
    } else {
      failed[jnum(r, "load")].emplace_back(h, std::max(l, 0.01));
    }
  }
  for (const auto& [load, pts] : failed) data[load];  // a plot even if nothing was sustained
  std::string script = o.plot_script.empty() ? VEIL_PRIVACY_PLOT_SCRIPT : o.plot_script;
  const bool have_script = std::filesystem::exists(script);
  const bool have_gnuplot = std::system("command -v gnuplot >/dev/null 2>&1") == 0;
  if (!have_gnuplot) std::fprintf(stderr, "warning: gnuplot not found; skipping plots\n");
  if (have_gnuplot && !have_script) std::fprintf(stderr, "warning: plot script %s not found; skipping plots\n", script.c_str());
  if (have_script) std::filesystem::copy_file(script, dir / "plot_privacy.gp", std::filesystem::copy_options::overwrite_existing);
  for (auto& [load, strategies] : data) {
    const std::string tag = num(load);
    const auto dat = dir / ("plot_" + tag + ".dat");
    std::ofstream out(dat);
    int blocks = 0;
    for (auto& [name, pts] : strategies) {
      std::sort(pts.begin(), pts.end());
      out << name << "\n";
      for (const auto& [h, l] : pts) out << h << " " << l << "\n";
      out << "\n\n";
      ++blocks;
    }
    out.close();
    std::string bad_arg;
    if (auto it = failed.find(load); it != failed.end()) {
      const auto bad = dir / ("plot_" + tag + "_not_sustained.dat");
      std::ofstream b(bad);
      for (const auto& [h, l] : it->second) b << h << " " << l << "\n";
      bad_arg = "; badfile='" + bad.string() + "'";
    }
    if (!have_gnuplot || !have_script) continue;
    const auto png = dir / ("latency_vs_entropy_" + tag + ".png");
    const std::string cmd = "gnuplot -e \"datafile='" + dat.string() + "'; outfile='" + png.string() +
                            "'; load='" + tag + "'; nblocks=" + std::to_string(blocks) + bad_arg + "\" '" +
                            script + "' 2>" + (dir / "gnuplot.log").string();
    if (std::system(cmd.c_str()) == 0) {
      made.emplace_back(load, png);
    } else {
      std::fprintf(stderr, "warning: gnuplot failed for load %s (see %s)\n", tag.c_str(),
                   (dir / "gnuplot.log").c_str());
    }
  }
}

}  // namespace

const char* privacy_usage() {
  return "usage: veil-bench privacy [--quick|--full] [--out DIR] [--seed N] [--rates 100,1000,...]\n"
         "                          [--strategies LIST] [--duration S] [--cover-drop R] [--cover-loop R]\n"
         "                          [--bursts FACTOR:LENGTH_S:EVERY_S] [--no-sda] [--senders N]\n"
         "                          [--recipients M] [--v2-share F] [--max-messages N] [--plot-script FILE]\n"
         "                          [--plan] [--replot DIR]\n"
         "  LIST: comma-separated strategies, each optionally with '='-values separated by '/':\n"
         "    none | poisson=D_ms | threshold=K | timed=T_ms | threshold_or_timed=T_ms (k = rate·T) or K:T_ms\n"
         "    | binomial=T_ms:P\n"
         "  quick default: rates 100,2000 and " "none,poisson=50/200,threshold=16/256,timed=100,threshold_or_timed=200,binomial=100:0.5\n"
         "  full default:  rates 100,1000,2000,10000 and the grid in docs/privacy-bench.md\n";
}

bool parse_privacy_options(int argc, char** argv, int first, PrivacyOptions& o) {
  for (int i = first; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&](const char* what) -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "veil-bench privacy: %s needs a value\n", what);
        return nullptr;
      }
      return argv[++i];
    };
    const char* v = nullptr;
    if (a == "--quick") {
      o.mode = PrivacyOptions::Mode::quick;
    } else if (a == "--full") {
      o.mode = PrivacyOptions::Mode::full;
    } else if (a == "--no-sda") {
      o.sda = false;
    } else if (a == "--plan") {
      o.plan_only = true;
    } else if (a == "--replot") {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "veil-bench privacy: --replot needs a directory\n");
        return false;
      }
      o.replot = argv[++i];
    } else if (a == "--help" || a == "-h") {
      std::fputs(privacy_usage(), stdout);
      std::exit(0);
    } else if (a == "--out" || a == "--seed" || a == "--rates" || a == "--strategies" || a == "--duration" ||
               a == "--cover-drop" || a == "--cover-loop" || a == "--bursts" || a == "--senders" ||
               a == "--recipients" || a == "--v2-share" || a == "--max-messages" || a == "--plot-script") {
      if (!(v = next(a.c_str()))) return false;
      if (a == "--out") o.out = v;
      if (a == "--seed") o.seed = std::strtoull(v, nullptr, 10);
      if (a == "--strategies") o.strategies = v;
      if (a == "--duration") o.duration = std::atof(v);
      if (a == "--cover-drop") o.cover_drop = std::atof(v);
      if (a == "--cover-loop") o.cover_loop = std::atof(v);
      if (a == "--senders") o.senders = std::strtoul(v, nullptr, 10);
      if (a == "--recipients") o.recipients = std::strtoul(v, nullptr, 10);
      if (a == "--v2-share") o.v2_share = std::atof(v);
      if (a == "--max-messages") o.max_messages = std::strtoul(v, nullptr, 10);
      if (a == "--plot-script") o.plot_script = v;
      if (a == "--rates") {
        o.rates.clear();
        for (const auto& r : split(v, ',')) o.rates.push_back(std::atof(r.c_str()));
      }
      if (a == "--bursts") {
        const auto parts = split(v, ':');
        if (parts.size() != 3) {
          std::fprintf(stderr, "veil-bench privacy: --bursts FACTOR:LENGTH_S:EVERY_S\n");
          return false;
        }
        o.bursts.factor = std::atof(parts[0].c_str());
        o.bursts.length_s = std::atof(parts[1].c_str());
        o.bursts.every_s = std::atof(parts[2].c_str());
      }
    } else {
      std::fprintf(stderr, "veil-bench privacy: unknown argument %s\n%s", a.c_str(), privacy_usage());
      return false;
    }
  }
  if (o.senders > 65535 * 16 || o.recipients > 65535 || o.recipients < 3 || o.senders < 2) {
    std::fprintf(stderr, "veil-bench privacy: need 2 ≤ senders, 3 ≤ recipients ≤ 65535\n");
    return false;
  }
  return true;
}

// Rewrites summary.md and the plots of an earlier run from its results.json.
int replot(const PrivacyOptions& options) {
  const std::filesystem::path dir(options.replot);
  std::ifstream in(dir / "results.json");
  const json all = json::parse(in, nullptr, false);
  if (all.is_discarded() || !all.contains("points")) {
    std::fprintf(stderr, "veil-bench privacy: cannot read %s\n", (dir / "results.json").c_str());
    return 2;
  }
  PrivacyOptions o = options;
  const json& w = all["workload"];
  o.senders = w.value("senders", o.senders);
  o.recipients = w.value("recipients", o.recipients);
  o.v2_share = w.value("v2_share", o.v2_share);
  o.seed = all.value("seed", o.seed);
  o.cover_drop = all["covers"].value("drop_rate", o.cover_drop);
  o.cover_loop = all["covers"].value("loop_rate", o.cover_loop);
  const std::vector<json> rows = all["points"].get<std::vector<json>>();
  const std::vector<json> sda_rows = all.value("sda", json::array()).get<std::vector<json>>();
  std::vector<std::pair<double, std::filesystem::path>> pngs;
  write_plot_data(dir, rows, o, pngs);
  const std::string md = markdown(rows, sda_rows, o, all.value("command", std::string()), all.value("wall_s", 0.0), w);
  std::ofstream(dir / "summary.md") << md;
  std::fputs(md.c_str(), stdout);
  return 0;
}

int run_privacy_bench(const PrivacyOptions& o) {
  if (!o.replot.empty()) return replot(o);
  const auto start = Clock::now();
  const bool quick = o.mode == PrivacyOptions::Mode::quick;
  std::vector<double> rates = o.rates;
  if (rates.empty()) rates = quick ? std::vector<double>{100, 2000} : std::vector<double>{100, 1000, 2000, 10000};
  const std::string grid = o.strategies.empty() ? (quick ? kQuickGrid : kFullGrid) : o.strategies;
  const std::size_t cap = o.max_messages ? o.max_messages : (quick ? 30'000 : 90'000);
  const double covers = o.cover_drop + o.cover_loop;

  // Plan.
  std::vector<PointSpec> plan;
  for (double rate : rates) {
    for (const auto& item : split(grid, ',')) {
      const auto eq = item.find('=');
      const std::string name = item.substr(0, eq);
      const std::vector<std::string> values =
          eq == std::string::npos ? std::vector<std::string>{""} : split(item.substr(eq + 1), '/');
      for (const auto& val : values) {
        std::string why;
        auto s = make_spec(name, val, rate, covers, why);
        if (!s) {
          if (!o.strategies.empty() || why == "unknown strategy") {
            std::fprintf(stderr, "skipping %s=%s at %g msg/s: %s\n", name.c_str(), val.c_str(), rate, why.c_str());
          }
          continue;
        }
        size_point(*s, quick, o.duration, cap);
        plan.push_back(*s);
      }
    }
  }
  std::vector<PointSpec> sda_plan;
  if (o.sda) {
    const double sda_rate = 1000;
    const char* sda_grid = quick ? "poisson=200,threshold=200,timed=200"
                                 : "none,poisson=200,threshold=200,timed=200,threshold_or_timed=200:200,binomial=100:0.5";
    for (const auto& item : split(sda_grid, ',')) {
      const auto eq = item.find('=');
      std::string why;
      auto s = make_spec(item.substr(0, eq), eq == std::string::npos ? "" : item.substr(eq + 1), sda_rate, covers, why);
      if (!s) continue;
      s->sda_scenario = true;
      size_point(*s, quick, 0, cap);
      sda_plan.push_back(*s);
    }
  }
  if (plan.empty() && sda_plan.empty()) {
    std::fprintf(stderr, "veil-bench privacy: nothing to run\n");
    return 2;
  }
  std::size_t bank_size = 0;
  double estimate = 0;
  for (const auto* list : {&plan, &sda_plan}) {
    for (const auto& s : *list) {
      bank_size = std::max(bank_size, static_cast<std::size_t>(std::ceil(1.08 * s.rate * s.send)) + 64);
      estimate += s.send + s.drain + 1.2;
    }
  }
  bank_size = std::min(bank_size, cap);

  std::filesystem::create_directories(o.out);
  std::fprintf(stderr, "veil-bench privacy (%s): %zu sweep points + %zu SDA points, loads", quick ? "quick" : "full",
               plan.size(), sda_plan.size());
  for (double r : rates) std::fprintf(stderr, " %g", r);
  std::fprintf(stderr, "; bank of %zu envelopes; about %.0f s of runs; results in %s\n", bank_size, estimate,
               o.out.c_str());
  if (o.plan_only) {
    for (const auto* list : {&plan, &sda_plan}) {
      for (const auto& s : *list) {
        std::printf("%-6g %-18s %-18s warm %.2f s window %.2f s guard %.2f s drain %.2f s gap %.2f ms%s\n",
                    s.rate, s.strategy.c_str(), s.label.c_str(), s.warm, s.window, s.guard, s.drain,
                    s.gap * 1000, s.sda_scenario ? " (SDA)" : "");
      }
    }
    return 0;
  }

  // Workload.
  pv::WorkloadConfig wc;
  wc.senders = o.senders;
  wc.recipients = o.recipients;
  wc.v2_share = o.v2_share;
  wc.seed = o.seed;
  const unsigned hw = std::max(1u, std::thread::hardware_concurrency());
  const pv::World world(wc, bank_size, hw, [](std::size_t done, std::size_t total) {
    if (::isatty(2)) std::fprintf(stderr, "\rsealing envelopes %zu/%zu ", done, total);
  });
  if (::isatty(2)) std::fprintf(stderr, "\n");
  std::fprintf(stderr, "sealed %zu envelopes in %.1f s (content cap %zu B SSv1, %zu B SSv2)\n", bank_size,
               world.seal_seconds(), world.content_cap_v1(), world.content_cap_v2());
  std::vector<pv::MessageFacts> facts;
  facts.reserve(world.bank().size());
  for (const auto& m : world.bank()) facts.push_back(pv::MessageFacts{m.sender, m.envelope_size, m.recipients});

  std::string command = "veil-bench privacy";
  command += quick ? " --quick" : " --full";
  command += " --seed " + std::to_string(o.seed);
  if (!o.rates.empty()) {
    command += " --rates ";
    for (std::size_t i = 0; i < o.rates.size(); ++i) command += (i ? "," : "") + num(o.rates[i]);
  }
  if (!o.strategies.empty()) command += " --strategies " + o.strategies;
  if (o.duration > 0) command += " --duration " + num(o.duration);
  if (o.cover_drop != 5 || o.cover_loop != 5) {
    command += " --cover-drop " + num(o.cover_drop) + " --cover-loop " + num(o.cover_loop);
  }
  if (o.bursts.enabled()) {
    command += " --bursts " + num(o.bursts.factor) + ":" + num(o.bursts.length_s) + ":" + num(o.bursts.every_s);
  }
  if (o.senders != 10'000) command += " --senders " + std::to_string(o.senders);
  if (o.recipients != 1'000) command += " --recipients " + std::to_string(o.recipients);
  if (o.v2_share != 0.10) command += " --v2-share " + num(o.v2_share);
  if (o.max_messages) command += " --max-messages " + std::to_string(o.max_messages);
  if (!o.sda) command += " --no-sda";

  Progress progress(plan.size() + sda_plan.size(), estimate);
  std::vector<json> rows, sda_rows;
  const std::filesystem::path dir(o.out);
  auto run_list = [&](std::vector<PointSpec>& list, std::vector<json>& into, const char* csv_name, uint64_t salt) {
    for (std::size_t i = 0; i < list.size(); ++i) {
      PointSpec& s = list[i];
      const std::string label = s.strategy + " " + s.label + " @" + num(s.rate) + "/s";
      progress.begin(label, s.send + s.drain + 1.2);
      pv::PointConfig pc;
      pc.mix = s.mix;
      pc.rate = s.rate;
      pc.bursts = o.bursts;
      pc.send_seconds = s.send;
      pc.drain_seconds = s.drain;
      pc.cover_drop = o.cover_drop;
      pc.cover_loop = o.cover_loop;
      pc.connections = s.rate > 2500 ? static_cast<std::size_t>(std::ceil(s.rate / 2500)) : 1;
      pc.max_messages = world.bank().size();
      pc.seed = o.seed * 1000 + salt + i;
      const auto t0 = Clock::now();
      pv::RunResult rr = pv::run_point(world, pc, [&](double f) { progress.update(f); });
      if (!rr.error.empty()) {  // e.g. a port taken by another process between probe and bind
        std::fprintf(stderr, "\n%s: %s; retrying once\n", label.c_str(), rr.error.c_str());
        pc.seed += 7777;
        rr = pv::run_point(world, pc, [&](double f) { progress.update(f); });
      }
      const double wall = std::chrono::duration<double>(Clock::now() - t0).count();
      json row = score_point(s, rr, facts, o, wall);
      progress.end();
      if (!::isatty(2)) {
        std::fprintf(stderr, "    H %.2f bits, p99 %.0f ms, link %.3f, %s\n", jnum(row, "H_mean"),
                     jnum(row, "lat_p99_ms"), jnum(row, "link_rate"),
                     row.value("sustained", false) ? "sustained" : row.value("note", std::string()).c_str());
      }
      into.push_back(std::move(row));
      write_csv(dir / csv_name, into);
      std::ofstream(dir / (std::string(csv_name) + ".json")) << json(into).dump(1) << "\n";
    }
  };
  run_list(plan, rows, "points.csv", 0);
  run_list(sda_plan, sda_rows, "sda.csv", 500);
  progress.finish();

  const double wall = std::chrono::duration<double>(Clock::now() - start).count();
  json all = {{"command", command}, {"wall_s", wall}, {"seed", o.seed},
              {"workload", {{"senders", o.senders}, {"recipients", o.recipients}, {"v2_share", o.v2_share},
                            {"alice_share", wc.alice_share}, {"alice_contacts", wc.alice_contacts},
                            {"packet_size", wc.packet_size}, {"bank", bank_size},
                            {"sizes", {{"body_median", wc.sizes.body_median}, {"body_sigma", wc.sizes.body_sigma},
                                       {"tail_share", wc.sizes.tail_share}, {"tail_median", wc.sizes.tail_median},
                                       {"tail_sigma", wc.sizes.tail_sigma},
                                       {"cap_v1", world.content_cap_v1()}, {"cap_v2", world.content_cap_v2()}}},
                            {"seal_seconds", world.seal_seconds()}}},
              {"covers", {{"drop_rate", o.cover_drop}, {"loop_rate", o.cover_loop}}},
              {"points", rows}, {"sda", sda_rows}};
  std::ofstream(dir / "results.json") << all.dump(1) << "\n";
  std::error_code ec;
  std::filesystem::remove(dir / "points.csv.json", ec);
  std::filesystem::remove(dir / "sda.csv.json", ec);
  std::vector<std::pair<double, std::filesystem::path>> pngs;
  write_plot_data(dir, rows, o, pngs);
  const std::string md = markdown(rows, sda_rows, o, command, wall, all["workload"]);
  std::ofstream(dir / "summary.md") << md;
  std::fputs(md.c_str(), stdout);
  std::fprintf(stderr, "wrote %s/{points.csv,sda.csv,results.json,summary.md}", o.out.c_str());
  for (const auto& [load, png] : pngs) std::fprintf(stderr, ", %s", png.filename().c_str());
  std::fprintf(stderr, " in %.0f s\n", wall);
  return 0;
}

}  // namespace veil::bench
