// A reload checked whole, then its new config applied to the running relay: what can change live
// changes at once, what cannot is listed as needing a restart and left as it was. No link, submit
// connection or pooled packet is touched.
#include <functional>
#include <variant>

#include "proxy/relay/core/relay.h"
#include "proxy/relay/core/relay_state.h"

namespace veil::relay {

namespace {

bool same(const Endpoint& a, const Endpoint& b) {
  return a.host == b.host && a.port == b.port && a.unix_path == b.unix_path;
}

// The same mix for what its strategy reads (a parameter another strategy reads changes nothing).
bool same(const MixConfig& a, const MixConfig& b) {
  using S = MixConfig::Strategy;
  if (a.strategy != b.strategy) return false;
  switch (a.strategy) {
    case S::none: return true;
    case S::threshold: return a.threshold == b.threshold;
    case S::timed: return a.interval == b.interval;
    case S::threshold_or_timed: return a.threshold == b.threshold && a.interval == b.interval;
    case S::binomial: return a.interval == b.interval && a.probability == b.probability && a.min_pool == b.min_pool;
    case S::poisson: return a.mean_delay == b.mean_delay;
  }
  return false;
}

bool same_recipients(const std::map<std::string, RecipientAccess>& a,
                     const std::map<std::string, RecipientAccess>& b) {
  if (a.size() != b.size()) return false;
  for (auto i = a.begin(), j = b.begin(); i != a.end(); ++i, ++j) {
    if (i->first != j->first || i->second.unrestricted != j->second.unrestricted ||
        i->second.access_key != j->second.access_key) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::vector<std::string> restart_only_changes(const RelayConfig& running, const RelayConfig& next) {
  std::vector<std::string> keys;
  const auto check = [&](bool differs, const char* key) {
    if (differs) keys.push_back(key);
  };
  check(running.name != next.name, "name");
  check(running.provider != next.provider, "provider");
  check(!same(running.peer_listen, next.peer_listen), "peer_listen");
  check(!same(running.submit_listen, next.submit_listen), "submit_listen");
  check(!same(running.admin_listen, next.admin_listen), "admin_listen");
  check(!same(running.deliver_to, next.deliver_to), "deliver_to");
  check(running.unix_socket_mode != next.unix_socket_mode, "unix_socket_mode");
  check(running.key_dir != next.key_dir, "key_dir");
  check(running.directory_file != next.directory_file, "directory_file");
  check(running.epoch_overlap != next.epoch_overlap, "epoch_overlap_ms");
  check(running.link_handshake_timeout != next.link_handshake_timeout, "link_handshake_timeout_ms");
  check(running.plain_links != next.plain_links, "plain_links");
  check(running.packet_size != next.packet_size, "packet_size");
  check(running.mix_hops != next.mix_hops, "mix_hops");
  check(running.crypto_workers != next.crypto_workers, "crypto_workers");
  check(running.max_replay_entries != next.max_replay_entries, "max_replay_entries");
  check(running.cover.loop_timeout != next.cover.loop_timeout, "cover.loop_timeout_ms");
  check(running.journal_dir != next.journal_dir, "journal_dir");
  check(running.run_without_journal != next.run_without_journal, "run_without_journal");
  check(running.journal_commit_window != next.journal_commit_window, "journal_commit_window_ms");
  return keys;
}

ReconfigureOutcome Relay::reconfigure(const RelayConfig& next) {
  RelayState& s = *state_;
  RelayConfig& c = s.config_;
  ReconfigureOutcome out;
  out.needs_restart = restart_only_changes(c, next);
  const Micros now = s.env_.clock.now();
  if (!same(c.mix, next.mix)) {
    s.replace_mix(next.mix);
    out.changed.push_back("mix");
  }
  if (c.cover.drop_rate != next.cover.drop_rate || c.cover.loop_rate != next.cover.loop_rate) {
    c.cover.drop_rate = next.cover.drop_rate;
    c.cover.loop_rate = next.cover.loop_rate;
    s.drop_schedule_ = PoissonSchedule(c.cover.drop_rate, s.env_.rng, now);
    s.loop_schedule_ = PoissonSchedule(c.cover.loop_rate, s.env_.rng, now);
    s.cover_timer_->cancel();
    if (s.started_) s.arm_cover_timer();
    out.changed.push_back("cover rates");
  }
  if (c.cover.alarm_loss != next.cover.alarm_loss || c.cover.alarm_latency != next.cover.alarm_latency) {
    c.cover.alarm_loss = next.cover.alarm_loss;
    c.cover.alarm_latency = next.cover.alarm_latency;
    out.changed.push_back("cover alarm");
  }
  if (!same_recipients(c.recipients, next.recipients)) {
    c.recipients = next.recipients;
    out.changed.push_back("recipients");
  }
  if (c.per_peer_queue != next.per_peer_queue) {
    c.per_peer_queue = next.per_peer_queue;
    out.changed.push_back("per_peer_queue");
    s.maybe_resume_inbound();
  }
  const LimitsConfig& a = c.limits;
  const LimitsConfig& b = next.limits;
  if (a.peer_connections != b.peer_connections || a.peer_connections_per_source != b.peer_connections_per_source ||
      a.submit_connections != b.submit_connections || a.frame_timeout != b.frame_timeout ||
      a.unread_bytes != b.unread_bytes || a.submit_rate != b.submit_rate || a.submit_burst != b.submit_burst) {
    const bool timeout_changed = a.frame_timeout != b.frame_timeout;
    c.limits = next.limits;  // open connections over a lowered cap stay; new ones are refused
    if (timeout_changed && s.started_) s.arm_limits_timer();
    out.changed.push_back("limits");
  }
  if (c.deliver_retry != next.deliver_retry) {
    c.deliver_retry = next.deliver_retry;
    out.changed.push_back("deliver_retry_ms");
  }
  if (c.timestamp_quantum_ms != next.timestamp_quantum_ms) {
    c.timestamp_quantum_ms = next.timestamp_quantum_ms;
    out.changed.push_back("timestamp_quantum_ms");
  }
  if (c.directory_authorities != next.directory_authorities || c.directory_threshold != next.directory_threshold) {
    c.directory_authorities = next.directory_authorities;
    c.directory_threshold = next.directory_threshold;
    out.changed.push_back("directory authorities");
  }
  if (next.directory_serial > c.directory_serial) {
    std::vector<std::string> restart = update_directory(next);
    out.needs_restart.insert(out.needs_restart.end(), restart.begin(), restart.end());
    out.changed.push_back("directory");
  }
  return out;
}

ReloadResult Relay::reload(const std::string& toml_text, int64_t now_unix_s, const RelayConfig& running) {
  ReloadResult r;
  ConfigResult checked = check_reload(toml_text, now_unix_s, running);
  if (auto* p = std::get_if<ConfigProblems>(&checked)) {
    r.problems = std::move(p->problems);
    for (const std::string& why : r.problems) {
      // The directory (or the keys it is judged against) refused; a key left out is not that.
      const bool about_directory = why.rfind("directory_file:", 0) == 0 || why.rfind("key_dir:", 0) == 0;
      if (about_directory && !why.ends_with(": required key is missing")) {
        directory_refused();
        break;
      }
    }
    return r;
  }
  r.next = std::move(std::get<RelayConfig>(checked));
  r.outcome = reconfigure(*r.next);
  return r;
}

}  // namespace veil::relay
