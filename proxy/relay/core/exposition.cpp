// Prometheus text exposition of the relay's metrics (exposition.h).
#include "proxy/relay/core/exposition.h"

#include <charconv>
#include <cmath>
#include <utility>

#include "base/error.h"

namespace veil::relay {

namespace {

using Labels = std::vector<std::pair<std::string, std::string>>;

std::string number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 1e15) return std::to_string(static_cast<int64_t>(v));
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);  // the shortest text that reads back as v
  return std::string(buf, r.ptr);
}

std::string number(uint64_t v) { return std::to_string(v); }

class Text {
 public:
  void family(std::string_view name, std::string_view type, std::string_view help) {
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    out_ += help;  // no backslash or line feed in our help texts
    out_ += "\n# TYPE ";
    out_ += name;
    out_ += ' ';
    out_ += type;
    out_ += '\n';
  }
  void sample(std::string_view name, const Labels& labels, const std::string& value) {
    out_ += name;
    if (!labels.empty()) {
      out_ += '{';
      for (std::size_t i = 0; i < labels.size(); ++i) {
        if (i) out_ += ',';
        out_ += labels[i].first;
        out_ += "=\"";
        out_ += escape_label_value(labels[i].second);
        out_ += '"';
      }
      out_ += '}';
    }
    out_ += ' ';
    out_ += value;
    out_ += '\n';
  }
  void counter(std::string_view name, std::string_view help, uint64_t v) {
    family(name, "counter", help);
    sample(name, {}, number(v));
  }
  void gauge(std::string_view name, std::string_view help, double v) {
    family(name, "gauge", help);
    sample(name, {}, number(v));
  }
  // Counters of one family, one sample per label set.
  void counters(std::string_view name, std::string_view help,
                const std::vector<std::pair<Labels, uint64_t>>& samples) {
    family(name, "counter", help);
    for (const auto& [labels, v] : samples) sample(name, labels, number(v));
  }
  // `h` in µs as seconds, or in packets as a count.
  void histogram(std::string_view name, std::string_view help, const Histogram& h, bool seconds) {
    family(name, "histogram", help);
    const std::string bucket = std::string(name) + "_bucket";
    uint64_t below = 0;
    const std::size_t first = seconds ? 6 : 0;
    const std::size_t last = seconds ? 34 : 20;
    for (std::size_t b = 0; b < first; ++b) below += h.bucket(b);
    for (std::size_t b = first; b <= last; ++b) {
      below += h.bucket(b);
      // Bucket b holds values under 2^b; counts are whole, so at most 2^b - 1.
      const double le = seconds ? std::ldexp(1.0, static_cast<int>(b)) / 1e6
                                : std::ldexp(1.0, static_cast<int>(b)) - 1;
      sample(bucket, {{"le", number(le)}}, number(below));
    }
    sample(bucket, {{"le", "+Inf"}}, number(h.count()));
    sample(std::string(name) + "_sum", {}, number(seconds ? h.sum() / 1e6 : h.sum()));
    sample(std::string(name) + "_count", {}, number(h.count()));
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

}  // namespace

std::string escape_label_value(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string render_exposition(const ExpositionInput& in) {
  const Metrics& m = *in.metrics;
  auto c = [&m](Counter k) { return m.get(k); };
  Text t;

  t.family("veil_build_info", "gauge", "Always 1; the labels name the relay's version and role.");
  t.sample("veil_build_info", {{"version", in.version}, {"role", in.role}}, "1");
  t.gauge("veil_ready", "1 when /readyz answers 200: keys, directory, journal and listeners are up.",
          in.ready ? 1 : 0);
  t.gauge("veil_draining", "1 while a drain (SIGTERM) is under way.", m.draining ? 1 : 0);

  // Submissions (provider relays).
  {
    std::vector<std::pair<Labels, uint64_t>> s;
    s.push_back({{{"result", "accepted"}, {"reason", "ok"}}, c(Counter::submissions_accepted)});
    for (std::size_t i = 1; i < m.rejected_by_reason.size(); ++i) {
      const auto e = static_cast<Error>(i);
      // The reasons a submission can be refused with are always shown; others once they occur.
      if (m.rejected_by_reason[i] == 0 && i > static_cast<std::size_t>(Error::internal)) continue;
      s.push_back({{{"result", "rejected"}, {"reason", std::string(error_name(e))}}, m.rejected_by_reason[i]});
    }
    t.counters("veil_submissions_total", "Submissions answered, by result and reason code (the codes of base/error.h).", s);
  }
  t.counter("veil_submit_connections_total", "Connections accepted on the submit interface.",
            c(Counter::submit_connections));
  t.counter("veil_submit_frames_malformed_total",
            "Submit frames longer than 1 MiB (each ends its connection).", c(Counter::submit_frames_malformed));

  t.counter("veil_submissions_rate_limited_total",
            "Submissions answered busy because their destination relay's rate (limits.submit_rate) "
            "was used up; also counted in veil_submissions_total as busy.",
            c(Counter::submissions_rate_limited));

  // Limits (docs/security.md): connections refused at accept, and closed for stalling or not
  // reading.
  t.counters("veil_connections_refused_total", "Connections closed because a listener's cap was reached, by interface and reason (at the total peer cap the oldest unidentified connection makes room for the new one).",
             {{{{"interface", "peer"}, {"reason", "too_many"}}, c(Counter::peer_connections_refused)},
              {{{"interface", "peer"}, {"reason", "too_many_from_source"}}, c(Counter::peer_connections_refused_source)},
              {{{"interface", "submit"}, {"reason", "too_many"}}, c(Counter::submit_connections_refused)}});
  t.counters("veil_connections_closed_total",
             "Connections closed for breaking a limit, by interface and reason: slow (a frame not "
             "finished within limits.frame_timeout_ms) or unread (more than limits.unread_bytes "
             "held for a peer that does not read).",
             {{{{"interface", "peer"}, {"reason", "slow"}}, c(Counter::peer_connections_slow)},
              {{{"interface", "peer"}, {"reason", "unread"}}, c(Counter::peer_connections_unread)},
              {{{"interface", "submit"}, {"reason", "slow"}}, c(Counter::submit_connections_slow)},
              {{{"interface", "submit"}, {"reason", "unread"}}, c(Counter::submit_connections_unread)}});

  // Packets.
  t.counter("veil_packets_received_total", "Packets taken off peer links.", c(Counter::packets_received));
  t.counter("veil_packets_forwarded_total", "Packets whose layer said forward, put into this relay's mix.",
            c(Counter::packets_forwarded));
  t.counter("veil_packets_sent_total", "Packet frames written to peer relays, resends included.",
            c(Counter::packets_sent));
  t.counter("veil_packets_retransmitted_total",
            "Packets sent again after a link dropped before their acknowledgement.",
            c(Counter::packets_retransmitted));
  t.counters("veil_packets_dropped_total", "Packets dropped, by reason.",
             {{{{"reason", "auth"}}, c(Counter::packets_dropped_auth)},
              {{{"reason", "replay"}}, c(Counter::packets_dropped_replay)},
              {{{"reason", "malformed"}}, c(Counter::packets_dropped_malformed)},
              {{{"reason", "unknown_hop"}}, c(Counter::packets_dropped_unknown_hop)},
              {{{"reason", "replay_full"}}, c(Counter::packets_dropped_replay_full)},
              {{{"reason", "epoch"}}, c(Counter::packets_dropped_epoch)}});
  t.counter("veil_packets_recovered_total", "Packets put back into the mix from the journal at start.",
            c(Counter::packets_recovered));

  // Deliveries (provider relays).
  t.counter("veil_deliveries_unwrapped_total", "Bundles opened for this relay's recipients.",
            c(Counter::deliveries_unwrapped));
  t.counter("veil_deliveries_sent_total", "Deliveries written to the messenger server, resends included.",
            c(Counter::deliveries_sent));
  t.counter("veil_deliveries_acknowledged_total", "Deliveries the messenger server acknowledged.",
            c(Counter::deliveries_acked));
  t.counter("veil_deliveries_resent_total", "Deliveries written again after deliver_retry_ms without acknowledgement.",
            c(Counter::deliveries_retried));
  t.counters("veil_deliveries_dropped_total", "Deliveries dropped at this relay, by reason code.",
             {{{{"reason", "access_denied"}}, c(Counter::deliveries_dropped_access)},
              {{{"reason", "malformed"}}, c(Counter::deliveries_dropped_malformed)},
              {{{"reason", "unknown_recipient"}}, c(Counter::deliveries_dropped_unknown)}});
  t.counter("veil_deliveries_recovered_total", "Deliveries put back into the deliver queue from the journal at start.",
            c(Counter::deliveries_recovered));
  if (in.deliver) {
    t.gauge("veil_deliver_link_up", "1 while the link to the messenger server's deliver endpoint is up.",
            in.deliver->up ? 1 : 0);
    t.gauge("veil_deliveries_pending", "Deliveries not yet acknowledged by the messenger server.",
            static_cast<double>(in.deliver->pending));
  }
  t.counter("veil_deliver_connects_total", "Connections made to the messenger server's deliver endpoint.",
            c(Counter::deliver_connects));
  t.counter("veil_deliver_frames_malformed_total", "Frames from the messenger server that are not a DeliveryAck.",
            c(Counter::deliver_frames_malformed));
  t.counter("veil_deliver_acks_unknown_total",
            "DeliveryAcks for an id not sent or already acknowledged (the link stays).",
            c(Counter::deliver_acks_unknown));

  // Cover traffic and the n-1 alarm.
  t.counters("veil_cover_sent_total", "Cover packets sent, by kind.",
             {{{{"kind", "drop"}}, c(Counter::cover_drop_sent)}, {{{"kind", "loop"}}, c(Counter::cover_loop_sent)}});
  t.counter("veil_cover_drop_received_total", "Drop covers that ended at this relay.", c(Counter::cover_drop_received));
  t.counter("veil_cover_loops_returned_total", "Loop covers back at this relay.", c(Counter::cover_loop_returned));
  t.counter("veil_cover_loops_lost_total", "Loop covers not back within loop_timeout_ms.", c(Counter::cover_loop_lost));
  t.counter("veil_cover_loops_unknown_total", "Returns of loops this relay did not send or had already counted lost.",
            c(Counter::cover_loop_unknown));
  t.histogram("veil_cover_loop_latency_seconds", "Round trip of loop covers.", m.loop_latency_us, true);
  t.gauge("veil_cover_loop_loss_ratio", "Loops lost over loops resolved, in the alarm's sliding window.",
          m.loop_loss_ratio);
  t.gauge("veil_cover_loop_alarm", "1 while loop loss or latency is above its alarm level (n-1 attack suspected).",
          m.loop_alarm ? 1 : 0);

  // The mix.
  t.gauge("veil_mix_pool_packets", "Packets in the mix pool now.", static_cast<double>(m.pool_now));
  t.histogram("veil_mix_pool_at_release_packets", "Mix pool size at each release.", m.pool_size, false);
  t.histogram("veil_mix_batch_packets", "Packets that left the mix together at one release.", m.batch_size, false);
  t.histogram("veil_mix_delay_seconds", "Time packets spent in the mix, from entering it to release.",
              m.mix_delay_us, true);
  t.histogram("veil_relay_latency_seconds", "Time packets spent in this relay, from arrival to sending.",
              m.relay_latency_us, true);

  // Peer links.
  t.gauge("veil_peer_queue_packets", "Packets queued for or unacknowledged by all peer relays.",
          static_cast<double>(m.queue_now));
  t.family("veil_peer_link_up", "gauge", "1 while the outgoing link to the peer relay is connected.");
  for (const auto& p : in.peers) t.sample("veil_peer_link_up", {{"peer", p.name}}, p.up ? "1" : "0");
  t.family("veil_peer_link_queued_packets", "gauge", "Packets waiting for a connection to the peer relay.");
  for (const auto& p : in.peers) t.sample("veil_peer_link_queued_packets", {{"peer", p.name}}, number(p.queued));
  t.family("veil_peer_link_unacknowledged_packets", "gauge", "Packets sent to the peer relay and not yet acknowledged.");
  for (const auto& p : in.peers) {
    t.sample("veil_peer_link_unacknowledged_packets", {{"peer", p.name}}, number(p.unacknowledged));
  }
  t.family("veil_peer_link_connects_total", "counter", "Connections established to the peer relay.");
  for (const auto& p : in.peers) t.sample("veil_peer_link_connects_total", {{"peer", p.name}}, number(p.connects));
  t.family("veil_peer_link_disconnects_total", "counter", "Connections to the peer relay that were lost (each is redialled).");
  for (const auto& p : in.peers) {
    t.sample("veil_peer_link_disconnects_total", {{"peer", p.name}}, number(p.disconnects));
  }
  t.counter("veil_peer_frames_malformed_total", "Peer frames of a bad length or type, or bad acknowledgements.",
            c(Counter::peer_frames_malformed));
  t.counters("veil_link_handshakes_total", "TLS handshakes of peer links, by result.",
             {{{{"result", "completed"}}, m.links.handshakes_completed},
              {{{"result", "failed"}}, m.links.handshakes_failed},
              {{{"result", "timed_out"}}, m.links.handshakes_timed_out}});
  t.counters("veil_link_peers_refused_total", "Peer links refused after the handshake, by reason.",
             {{{{"reason", "unknown_key"}}, m.links.peers_refused_unknown_key},
              {{{"reason", "wrong_key"}}, m.links.peers_refused_wrong_key}});

  // Journal.
  t.counter("veil_journal_written_bytes_total", "Bytes the journal's group commits handed to RocksDB.",
            m.journal.bytes_written);
  t.histogram("veil_journal_sync_seconds", "Time of each successful journal group commit.", m.journal.sync_us, true);
  t.counter("veil_journal_write_errors_total", "Failed journal group commits (each is retried).",
            m.journal.write_errors);
  t.gauge("veil_journal_failing", "1 while the last journal write failed.", m.journal.failing ? 1 : 0);

  // Epochs, keys and the directory.
  t.gauge("veil_epoch", "The current epoch.", static_cast<double>(m.epoch));
  t.counter("veil_epoch_switches_total", "Epoch switches made while running.", c(Counter::epoch_switches));
  t.gauge("veil_directory_serial", "Serial of the directory in force.", static_cast<double>(in.directory_serial));
  t.gauge("veil_directory_expiry_timestamp_seconds", "Unix time the directory in force stops being valid (0: never).",
          static_cast<double>(in.directory_valid_until));
  t.gauge("veil_epoch_keys_published_until_timestamp_seconds",
          "Unix time the last epoch for which the directory publishes this relay's key ends (0: fixed epoch).",
          static_cast<double>(in.epoch_keys_published_until));
  t.counter("veil_directory_updates_total", "Newer directories applied on reload.", c(Counter::directory_updates));
  t.counter("veil_directory_refused_total", "Directories refused on reload (the last good one stays).",
            c(Counter::directory_refused));
  t.counters("veil_config_reloads_total", "Config reloads (SIGHUP), by result.",
             {{{{"result", "applied"}}, in.reloads.applied}, {{{"result", "refused"}}, in.reloads.refused}});
  t.gauge("veil_config_last_reload_success_timestamp_seconds", "Unix time the config in force was applied.",
          in.reloads.last_success_seconds);

  if (in.process) {
    const ProcessStats& p = *in.process;
    t.family("process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.");
    t.sample("process_cpu_seconds_total", {}, number(p.cpu_seconds));
    t.gauge("process_resident_memory_bytes", "Resident memory size in bytes.", static_cast<double>(p.resident_bytes));
    t.gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.", static_cast<double>(p.virtual_bytes));
    t.gauge("process_open_fds", "Number of open file descriptors.", static_cast<double>(p.open_fds));
    t.gauge("process_max_fds", "Maximum number of open file descriptors.", static_cast<double>(p.max_fds));
    t.gauge("process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
               p.start_time_seconds);
  }
  return t.take();
}

}  // namespace veil::relay
