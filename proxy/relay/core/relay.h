// The relay: takes sealed-sender submissions, strips and pads them into fixed-size packets, mixes
// them with cover traffic, forwards them over peer links, and delivers what arrives for its
// provider's users. No libuv: time, timers, workers, sockets, link security and the journal are
// injected (RelayEnv), so the same relay runs in the daemon and, in process, in tests.
//
// Path of one message (the files of proxy/relay/core/, in reading order):
//   1 submit.cpp     parse, validate and strip (submission.cpp: the bundle rebuilt from named
//                    fields), choose the path, pad + wrap on a worker; answer after journal commit
//   2 mix_stage.cpp  pool the packet; release it when the mix strategy (mix.h) says, once the
//                    journal commit that holds it finished
//   3 link_out.cpp   sequence-numbered packet frames to the next hop; cumulative acks; in-order
//                    resend after a reconnect
//   4 link_in.cpp    the next hop: batches of frames → unwrap on workers → replay filter →
//                    forward (back to 2) | deliver (to 5) | cover; ack after journal commit
//   5 deliver.cpp    open the bundle (bundle.cpp: access check, SSv2 fan-out), deliver link to the
//                    messenger server with acknowledgements and retries
// Beside them: cover_traffic.cpp (drop and loop covers, the n-1 alarm); durability.cpp (journal
// commits and what waits for them); relay.cpp (construction, journal recovery, start, drain,
// stop: lifecycle only). Roles: a provider relay has the submit and deliver stages
// (ProviderSide in relay_state.h); a mix has only stages 2–4.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/executor.h"
#include "base/rng.h"
#include "crypto/keys.h"
#include "proxy/relay/core/config.h"
#include "proxy/relay/core/epoch_keys.h"
#include "proxy/relay/core/journal.h"
#include "proxy/relay/core/link_security.h"
#include "proxy/relay/core/metrics.h"
#include "proxy/relay/core/stream.h"

namespace veil::relay {

enum class Role {
  provider,  // serves a provider: submit and deliver interfaces, first and last hop
  mix,       // a mix hop: only peer links
};

// What the relay runs on. Everything must outlive the relay; all of it is used on one loop thread
// (the executor's jobs excepted).
struct RelayEnv {
  Clock& clock;            // monotonic and wall time, timers
  Executor& executor;      // unwrap and wrap batches
  Transport& transport;    // listeners and dialers
  LinkSecurity& security;  // every peer link passes through it
  Journal& journal;        // durability of accepted packets and pending deliveries
  Rng& rng;                // path choice, cover, mix order, replay-filter key; seeds each submit
                           // batch's generator
  EpochKeySource& keys;    // this relay's epoch private keys, asked for each epoch it enters
};

class RelayState;

// A change of state the operator's logs record (never about a user or a single message).
struct RelayEvent {
  enum class Kind {
    peer_link_up,       // the outgoing link to `peer` connected
    peer_link_down,     // ... and was lost (it is redialled)
    deliver_link_up,    // the link to the messenger server's deliver endpoint connected
    deliver_link_down,  // ... and was lost
    loop_alarm_raised,  // loop loss or latency crossed its alarm level (n-1 attack suspected)
    loop_alarm_cleared,
  };
  Kind kind;
  std::string peer;  // the peer relay's name, for the peer link kinds
};
const char* event_name(RelayEvent::Kind k) noexcept;  // "peer_link_up", ...

// What a reload changed (reconfigure), for the daemon to report.
struct ReconfigureOutcome {
  std::vector<std::string> changed;        // what now runs with the new values
  std::vector<std::string> needs_restart;  // config keys (and directory changes) left as they were
};

// A reload's verdict (Relay::reload): refused whole with its problems, or applied.
struct ReloadResult {
  std::vector<std::string> problems;  // non-empty: refused, nothing in the relay changed
  std::optional<RelayConfig> next;    // applied: the config read
  ReconfigureOutcome outcome;         // applied: what changed and what needs a restart
};

// The config keys whose values differ between `running` and `next` and that only a restart can
// apply: the endpoints, name and provider, keys, directory_file, packet_size, mix_hops, crypto
// workers, replay-filter size, loop timeout, epoch overlap, link settings and the journal.
std::vector<std::string> restart_only_changes(const RelayConfig& running, const RelayConfig& next);

// One peer relay's outgoing link, as the admin endpoint shows it (peer names are public).
struct PeerLinkStatus {
  std::string name;
  bool up = false;              // a connection is established (TLS: possibly still handshaking)
  uint64_t queued = 0;          // packets waiting for a connection
  uint64_t unacknowledged = 0;  // packets sent on the connection and not yet acknowledged
  uint64_t connects = 0;        // connections established since start
  uint64_t disconnects = 0;     // connections lost since start
};

// The deliver link to the messenger server (a provider relay's).
struct DeliverLinkStatus {
  bool up = false;
  uint64_t pending = 0;  // deliveries not yet acknowledged by the messenger server
};

class Relay {
 public:
  // Throws std::runtime_error if the mix parameters are out of range, the name is not 1..255
  // bytes, the epoch timing is out of range (overlap above half an epoch), or `env.keys` has no
  // key for the current epoch.
  Relay(RelayConfig config, RelayEnv env);
  ~Relay();
  Relay(const Relay&) = delete;
  Relay& operator=(const Relay&) = delete;

  // Recovers the journal, opens listeners, dials peers and the messenger server, starts timers.
  // Call once. Throws std::runtime_error on bind errors.
  void start();
  // Stops accepting, closes every connection and timer; idempotent. What the journal holds stays
  // there for the next start. Destroy the relay only after the loop ran dry (every executor job
  // completed, every stream's close callback ran and the journal finished its commits).
  void stop();
  // Graceful shutdown: closes the listeners, answers new submissions `draining`, stops reading
  // peer links and sending cover, and keeps releasing pooled packets at their scheduled times
  // (no flush) and waiting for acknowledgements, until nothing is left or `timeout` µs passed;
  // then stop() and, once the journal committed the last forgets, `done` (on the loop thread).
  // What is left stays in the journal. No effect once draining or stopped.
  void drain(Micros timeout, std::function<void()> done);
  bool draining() const;
  // `listener` runs on the loop thread after each epoch switch, with the new epoch (set before
  // start()).
  void on_epoch(std::function<void(uint64_t epoch)> listener);
  uint64_t epoch() const;
  // `listener` runs on the loop thread at each RelayEvent (set before start()).
  void on_event(std::function<void(const RelayEvent&)> listener);
  // A newer directory (config.h apply_directory checked it): the peers' epoch keys change now,
  // without touching links or pooled packets. Returns what it changes that only a restart can
  // apply (a relay joining or leaving, a changed identity key, address or providers, another
  // epoch schedule), one line each; the rest is applied all the same.
  std::vector<std::string> update_directory(const RelayConfig& newer);
  // A reload: `next` passed build_config (the daemon reads the whole file again). Applies at once
  // what can change live: [mix] (new packets enter the new mix; a packet already pooled keeps its
  // release time under the old mix, which runs its own schedule until empty, except that the
  // packets of a none or threshold pool join the new mix as arrivals), cover rates and alarm
  // levels, recipients, per_peer_queue, deliver_retry_ms, timestamp_quantum_ms, the directory
  // authorities, and a directory with a larger serial (update_directory). Links, submit
  // connections and pooled packets are untouched. The keys restart_only_changes lists keep their
  // running values.
  ReconfigureOutcome reconfigure(const RelayConfig& next);
  // A reload of the config text `toml_text` (SIGHUP: the file read again) at wall time
  // `now_unix_s`: checked as check_reload does against `running` (the config the relay started
  // with, its directory serial the newest applied). Any problem refuses it whole: the relay runs
  // on as before, and a problem with directory_file or key_dir other than a missing key (the
  // directory refused, or either changed) counts directory_refused. Otherwise reconfigure()
  // applies it. Never throws for bad text.
  ReloadResult reload(const std::string& toml_text, int64_t now_unix_s, const RelayConfig& running);
  // Counts a directory that was refused (the daemon keeps the last good one).
  void directory_refused();

  // Why the relay cannot take traffic now, one line each ("starting", "draining", "journal:
  // failing ...", "keys: ...", "directory: expired ..."), at the clock's wall time; empty: ready.
  std::vector<std::string> not_ready() const;
  // Every peer relay's outgoing link, in directory order.
  std::vector<PeerLinkStatus> peer_links() const;
  DeliverLinkStatus deliver_link() const;  // all zero on a mix
  // The end (unix s) of the directory's validity, and of the last epoch for which it publishes
  // this relay's key: after either, a newer directory is needed. 0: no schedule (fixed epoch).
  int64_t directory_valid_until() const;
  int64_t epoch_keys_published_until() const;

  Role role() const;
  uint16_t peer_port() const;
  uint16_t submit_port() const;  // 0 for a mix
  const Metrics& metrics() const;

 private:
  std::unique_ptr<RelayState> state_;
};

}  // namespace veil::relay
