// Aggregate relay metrics: counters, gauges and fixed-bucket histograms. Never per-user labels.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "base/error.h"
#include "proxy/relay/core/histogram.h"
#include "proxy/relay/core/journal.h"
#include "proxy/relay/core/link_security.h"

namespace veil::relay {

// Counters (all since start; the metrics file's "counters" object uses these names):
//  submissions_accepted/rejected   answers ACCEPTED / REJECTED (per reason: rejected_by_reason)
//  submit_frames_malformed         submit frames over 1 MiB long (the connection ends)
//  packets_sent                    packet frames written to peers (resends included)
//  packets_received                packets taken off peer links and unwrapped (or tried)
//  packets_forwarded               layers whose command was forward (into this relay's mix)
//  packets_retransmitted           packets sent again after a link dropped before their ack
//  packets_dropped_auth            no layer for this relay authenticated (tampered, foreign)
//  packets_dropped_replay          replay tag seen before (or of a retired epoch)
//  packets_dropped_malformed       a layer that authenticated but did not parse
//  packets_dropped_unknown_hop     forward to a relay not in the directory
//  packets_dropped_replay_full     the epoch's replay filter is full
//  packets_dropped_epoch           a layer under an epoch whose key this relay has wiped
//  epoch_switches                  epoch changes made while running
//  directory_updates/refused       newer directories applied / refused (the last good one stays)
//  deliveries_unwrapped            bundles opened for this relay's recipients (valid bundle)
//  deliveries_sent/acked/retried   Delivery frames written / acknowledged / written again
//  deliveries_dropped_access       the access key did not match (access_denied)
//  deliveries_dropped_malformed    the bundle did not parse (or arrived at a mix)
//  deliveries_dropped_unknown      a recipient this relay does not serve
//  cover_drop_sent/received        drop covers sent / dropped here as their last hop
//  cover_loop_sent/returned        loop covers sent / back at this relay
//  cover_loop_lost                 loops not back within loop_timeout (since start)
//  cover_loop_unknown              returns of loops this relay did not send (or already lost)
//  peer_connects/disconnects       outgoing peer connections established / lost
//  peer_frames_malformed           peer frames of a bad length or type, or bad acks
//  deliver_connects                connections to the messenger server's deliver endpoint
//  deliver_frames_malformed        frames from the messenger server that are not a DeliveryAck
//                                  (an over-64-byte one also closes the link)
//  deliver_acks_unknown            DeliveryAcks for an id not sent or already acknowledged
//                                  (a zero-length frame is the ack of id 0)
//  submit_connections              submit connections accepted
//  packets_recovered               packets put back into the mix from the journal at start
//  deliveries_recovered            deliveries put back into the deliver queue at start
//  peer_connections_refused        inbound peer connections closed at accept: limits.peer_connections
//  peer_connections_refused_source   ... limits.peer_connections_per_source
//  submit_connections_refused      submit connections closed at accept: limits.submit_connections
//  peer/submit_connections_slow    closed: a frame begun (or an inbound peer link's first frame)
//                                  not finished within limits.frame_timeout
//  peer/submit_connections_unread  closed: more than limits.unread_bytes written and not read
//  submissions_rate_limited        answered busy by limits.submit_rate (also in rejected busy)
// Gauges (in the file: gauges.pool, gauges.queued, gauges.loop_alarm, gauges.draining,
// gauges.journal_failing, gauges.epoch): pool_now (packets in the mix), queue_now (packets queued
// for or unacknowledged by peers), loop_alarm, draining (a drain is under way), the journal
// failing, the current epoch.
// Journal (in the file: journal.syncs, bytes_written, write_errors, sync_seconds): see
// JournalStats. Link security (in the file: links.handshakes_completed, handshakes_failed,
// handshakes_timed_out, peers_refused_unknown_key, peers_refused_wrong_key): LinkSecurityStats. Histograms: pool_size (at each release), relay_latency_us (arrival to sent),
// loop_latency_us (loop round trips).
#define VEIL_COUNTERS(X)                                                                       \
  X(submissions_accepted) X(submissions_rejected) X(submit_frames_malformed)                  \
  X(packets_sent) X(packets_received) X(packets_forwarded) X(packets_retransmitted)           \
  X(packets_dropped_auth) X(packets_dropped_replay) X(packets_dropped_malformed)              \
  X(packets_dropped_unknown_hop) X(packets_dropped_replay_full) X(packets_dropped_epoch)      \
  X(deliveries_unwrapped) X(deliveries_sent) X(deliveries_acked) X(deliveries_retried)        \
  X(deliveries_dropped_access) X(deliveries_dropped_malformed) X(deliveries_dropped_unknown)  \
  X(cover_drop_sent) X(cover_loop_sent) X(cover_drop_received) X(cover_loop_returned)         \
  X(cover_loop_lost) X(cover_loop_unknown) X(peer_connects) X(peer_disconnects)               \
  X(peer_frames_malformed) X(deliver_connects) X(deliver_frames_malformed) X(deliver_acks_unknown) \
  X(submit_connections) X(packets_recovered) X(deliveries_recovered) X(epoch_switches) \
  X(directory_updates) X(directory_refused) X(peer_connections_refused)                       \
  X(peer_connections_refused_source) X(submit_connections_refused) X(peer_connections_slow)  \
  X(submit_connections_slow) X(peer_connections_unread) X(submit_connections_unread)          \
  X(submissions_rate_limited)

enum class Counter : int {
#define VEIL_COUNTER_ENUM(name) name,
  VEIL_COUNTERS(VEIL_COUNTER_ENUM)
#undef VEIL_COUNTER_ENUM
      count_
};

struct Metrics {
  std::array<uint64_t, static_cast<int>(Counter::count_)> counters{};
  std::array<uint64_t, kErrorCount> rejected_by_reason{};  // indexed by veil::Error
  Histogram pool_size;           // mix pool size seen at each release
  Histogram batch_size;          // packets that left the mix at each release
  Histogram mix_delay_us;        // time a packet spent in the mix (entered -> released)
  Histogram relay_latency_us;    // time a packet spent inside this relay (arrival -> sent)
  Histogram loop_latency_us;
  uint64_t pool_now = 0;
  uint64_t queue_now = 0;
  bool loop_alarm = false;
  double loop_loss_ratio = 0;  // lost / (returned + lost) over the alarm's sliding window
  bool draining = false;
  uint64_t epoch = 0;
  JournalStats journal;  // the journal's own counters, read when the metrics are
  LinkSecurityStats links;  // the link-security slot's counters, read when the metrics are

  void inc(Counter c, uint64_t n = 1) { counters[static_cast<int>(c)] += n; }
  uint64_t get(Counter c) const { return counters[static_cast<int>(c)]; }
  void reject(Error e);
  // One JSON object with every counter, gauge and histogram summary.
  std::string to_json() const;
};

}  // namespace veil::relay
