// The relay config's field table: every key with its path, type, unit, range, requirement,
// description and the RelayConfig member it fills. Reading a config, checking it and the key
// reference in docs/config.md all follow this one table; defaults are RelayConfig's own.
#include "proxy/relay/core/link_frame.h"
#include "proxy/relay/core/config_fields.h"

#include <arpa/inet.h>
#include <sys/un.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <map>
#include <span>
#include <type_traits>
#include <utility>

#include "base/bytes.h"
#include "crypto/service_id.h"

namespace veil::relay {
namespace config_detail {
namespace {

using Problems = std::vector<std::string>;

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kDayMs = 86'400'000;

// Config files give durations in milliseconds (integer or fractional); RelayConfig holds Micros.
// These two functions are the only conversion between the two.
Micros ms_to_micros(double ms) { return static_cast<Micros>(std::llround(ms * 1000.0)); }
double micros_to_ms(Micros us) { return static_cast<double>(us) / 1000.0; }

// How a key is written in TOML and what it becomes.
enum class Kind {
  string,       // a string
  boolean,      // true or false; stored as a bool
  integer,      // an integer, within `range`
  number,       // an integer or a float, within `range`
  duration_ms,  // a number of milliseconds within `range`; stored as Micros
  listen,       // "host:port" (port 0: any free port) or "unix:/path"
  dial,         // "host:port" or "unix:/path"
  address,      // "host:port" (TCP only)
  strategy,     // a mix strategy name
  identity_keys,  // an array of Ed25519 public keys, 64 hex digits each
  string_list,  // an array of non-empty strings
  recipients,   // a table: service id -> 16-byte hex access key or "unrestricted"
  file_mode,    // a string of octal digits ("0660"); stored as an integer
};

enum class Need {
  optional,
  required,
  provider_only,      // optional for a provider relay; a mix must leave it out
  provider_required,  // required for a provider relay; a mix must leave it out
};

// Inclusive bounds unless lo_open; NaN is never within.
struct Range {
  double lo = -kInf;
  double hi = kInf;
  bool lo_open = false;
  bool contains(double v) const { return (lo_open ? v > lo : v >= lo) && v <= hi; }
  bool bounded() const { return lo != -kInf || hi != kInf; }
};

// A key's value between TOML and the config struct, in the struct's units.
using Value = std::variant<std::monostate, int64_t, double, std::string, Endpoint,
                           MixConfig::Strategy, std::vector<crypto::IdentityPublicKey>, std::vector<std::string>,
                           std::map<std::string, RecipientAccess>>;

template <class T>
void assign(T& out, Value&& v) {
  if constexpr (std::is_integral_v<T>) {
    out = static_cast<T>(std::get<int64_t>(v));
  } else {
    out = std::get<T>(std::move(v));
  }
}

template <class T>
Value to_value(const T& v) {
  if constexpr (std::is_integral_v<T>) {
    return static_cast<int64_t>(v);
  } else {
    return v;
  }
}

template <class R>
struct Field {
  std::string_view path;  // dotted, relative to R's table: "mix.threshold"
  Kind kind;
  std::string_view unit;
  Range range;            // integer, number and duration_ms (in the config's unit)
  Need need;
  std::string_view description;
  void (*set)(R&, Value&&);
  Value (*get)(const R&);
};

// The setter and getter of a Field for member `member` of R.
#define VEIL_SLOT(R, member)                                     \
  [](R& r, Value&& v) { assign(r.member, std::move(v)); },       \
      [](const R& r) { return to_value(r.member); }

// Columns: path, kind, unit, range, need, description, member.
const Field<RelayConfig> kRelayFields[] = {
    {"name", Kind::string, "", {}, Need::required, "this relay's name, 1..255 bytes; its relay id is SHA-256(name)[0..16)",
     VEIL_SLOT(RelayConfig, name)},
    {"provider", Kind::string, "", {}, Need::optional,
     "the provider this relay is the sidecar of; leave out for a mix relay", VEIL_SLOT(RelayConfig, provider)},
    {"peer_listen", Kind::listen, "", {}, Need::required,
     "where peer relays connect (the bound ports are printed at start)", VEIL_SLOT(RelayConfig, peer_listen)},
    {"submit_listen", Kind::listen, "", {}, Need::provider_only,
     "where the provider's messenger server submits messages", VEIL_SLOT(RelayConfig, submit_listen)},
    {"admin_listen", Kind::listen, "", {}, Need::optional,
     "the admin endpoint (HTTP: /livez, /readyz, /metrics, no authentication): a Unix socket or "
     "loopback TCP",
     VEIL_SLOT(RelayConfig, admin_listen)},
    {"deliver_to", Kind::dial, "", {}, Need::provider_required,
     "the messenger server's deliver endpoint", VEIL_SLOT(RelayConfig, deliver_to)},
    {"key_dir", Kind::string, "path", {}, Need::required,
     "this relay's key directory: identity and epoch keys, owner-only (veil relay-keys init)",
     VEIL_SLOT(RelayConfig, key_dir)},
    {"directory_file", Kind::string, "path", {}, Need::required,
     "the network's signed directory (veil directory sign); it must list this relay with its "
     "identity key and the epoch keys key_dir holds",
     VEIL_SLOT(RelayConfig, directory_file)},
    {"directory_authorities", Kind::identity_keys, "", {}, Need::required,
     "the directory authorities' Ed25519 public keys, 64 hex digits each (veil directory keygen)",
     VEIL_SLOT(RelayConfig, directory_authorities)},
    {"directory_threshold", Kind::integer, "signatures", {0, 16}, Need::optional,
     "valid signatures of distinct listed authorities a directory needs; 0: a majority of them",
     VEIL_SLOT(RelayConfig, directory_threshold)},
    {"epoch_overlap_ms", Kind::duration_ms, "ms", {0, 7 * kDayMs / 2}, Need::optional,
     "after an epoch switch, how long layers under the previous epoch's key are still taken (at "
     "most half an epoch); then that key and its replay tags are wiped",
     VEIL_SLOT(RelayConfig, epoch_overlap)},
    {"link_handshake_timeout_ms", Kind::duration_ms, "ms", {0, 600000, true}, Need::optional,
     "a peer link whose TLS handshake has not finished by then is closed",
     VEIL_SLOT(RelayConfig, link_handshake_timeout)},
    {"plain_links", Kind::boolean, "", {}, Need::optional,
     "peer links without TLS: unauthenticated and readable by anyone on the path (benchmarks only)",
     VEIL_SLOT(RelayConfig, plain_links)},
    {"packet_size", Kind::integer, "bytes", {512, 65536}, Need::optional,
     "size of every packet on peer links; the same on every relay", VEIL_SLOT(RelayConfig, packet_size)},
    {"timestamp_quantum_ms", Kind::integer, "ms", {1, kInf}, Need::optional,
     "delivery timestamps are rounded down to a multiple of this", VEIL_SLOT(RelayConfig, timestamp_quantum_ms)},
    {"mix_hops", Kind::integer, "", {0, 16}, Need::optional,
     "mix relays on each path from this relay to the destination's relay", VEIL_SLOT(RelayConfig, mix_hops)},
    {"mix.strategy", Kind::strategy, "", {}, Need::optional,
     "how the mix pool holds and releases packets (Mix strategies, below)", VEIL_SLOT(RelayConfig, mix.strategy)},
    {"mix.threshold", Kind::integer, "packets", {1, 1e9}, Need::optional,
     "threshold, threshold_or_timed: flush once this many are pooled", VEIL_SLOT(RelayConfig, mix.threshold)},
    {"mix.interval_ms", Kind::duration_ms, "ms", {0, kDayMs, true}, Need::optional,
     "timed, threshold_or_timed, binomial: flush period", VEIL_SLOT(RelayConfig, mix.interval)},
    {"mix.probability", Kind::number, "", {0, 1, true}, Need::optional,
     "binomial: chance that a pooled packet leaves at a tick", VEIL_SLOT(RelayConfig, mix.probability)},
    {"mix.min_pool", Kind::integer, "packets", {0, 1e9}, Need::optional,
     "binomial: packets that always stay in the pool", VEIL_SLOT(RelayConfig, mix.min_pool)},
    {"mix.mean_delay_ms", Kind::duration_ms, "ms", {0, kDayMs}, Need::optional,
     "poisson: mean of each packet's exponential delay; 0 forwards at once", VEIL_SLOT(RelayConfig, mix.mean_delay)},
    {"cover.drop_rate", Kind::number, "packets/s", {0, 1e6}, Need::optional,
     "drop-cover packets sent per second (Poisson process)", VEIL_SLOT(RelayConfig, cover.drop_rate)},
    {"cover.loop_rate", Kind::number, "packets/s", {0, 1e6}, Need::optional,
     "loop-cover packets sent per second (Poisson process)", VEIL_SLOT(RelayConfig, cover.loop_rate)},
    {"cover.loop_timeout_ms", Kind::duration_ms, "ms", {0, kDayMs, true}, Need::optional,
     "a loop packet not back by then counts as lost", VEIL_SLOT(RelayConfig, cover.loop_timeout)},
    {"cover.alarm_loss", Kind::number, "", {0, 1}, Need::optional,
     "loop loss ratio that raises the n-1 attack alarm", VEIL_SLOT(RelayConfig, cover.alarm_loss)},
    {"cover.alarm_latency_ms", Kind::duration_ms, "ms", {0, kDayMs, true}, Need::optional,
     "loop p99 latency that raises the n-1 attack alarm", VEIL_SLOT(RelayConfig, cover.alarm_latency)},
    {"per_peer_queue", Kind::integer, "packets", {1, 1e9}, Need::optional,
     "packets queued per peer (and deliveries pending) before submissions are refused as busy",
     VEIL_SLOT(RelayConfig, per_peer_queue)},
    {"limits.peer_connections", Kind::integer, "connections", {1, 1e6}, Need::optional,
     "inbound peer connections whose peer is not yet known (handshaking, or never saying who it "
     "is) open at once; at the cap a new one closes the oldest of them (links of directory relays "
     "are not counted)",
     VEIL_SLOT(RelayConfig, limits.peer_connections)},
    {"limits.peer_connections_per_source", Kind::integer, "connections", {1, 1e6}, Need::optional,
     "inbound peer connections open at once from one source address; one more is closed at accept",
     VEIL_SLOT(RelayConfig, limits.peer_connections_per_source)},
    {"limits.submit_connections", Kind::integer, "connections", {1, 1e6}, Need::optional,
     "submit connections open at once; one more is closed at accept",
     VEIL_SLOT(RelayConfig, limits.submit_connections)},
    {"limits.frame_timeout_ms", Kind::duration_ms, "ms", {0, kDayMs, true}, Need::optional,
     "a connection that began a frame and has not finished it, or an inbound peer connection "
     "whose peer has not identified itself, is closed after this long",
     VEIL_SLOT(RelayConfig, limits.frame_timeout)},
    {"limits.unread_bytes", Kind::integer, "bytes", {65536, 1e10}, Need::optional,
     "bytes the relay holds for a submit or inbound peer connection and cannot write because the "
     "other side does not read (the kernel's socket buffers come on top); above this the "
     "connection is closed",
     VEIL_SLOT(RelayConfig, limits.unread_bytes)},
    {"limits.submit_rate", Kind::number, "submissions/s", {0, 1e7}, Need::optional,
     "submissions accepted per second for each destination relay (token bucket, all submit "
     "connections together), the rest answered busy; 0: no limit",
     VEIL_SLOT(RelayConfig, limits.submit_rate)},
    {"limits.submit_burst", Kind::integer, "submissions", {1, 1e9}, Need::optional,
     "submissions a destination relay's bucket holds (taken at once after a quiet spell)",
     VEIL_SLOT(RelayConfig, limits.submit_burst)},
    {"unix_socket_mode", Kind::file_mode, "", {}, Need::optional,
     "permissions of the Unix sockets the relay listens on (submit_listen, peer_listen, "
     "admin_listen): the messenger server's user (and the scraper's) joins the relay's group",
     VEIL_SLOT(RelayConfig, unix_socket_mode)},
    {"allow_remote_messenger", Kind::boolean, "", {}, Need::optional,
     "let submit_listen and deliver_to be TCP addresses that are not loopback (unencrypted on "
     "that network); otherwise only Unix sockets and loopback",
     VEIL_SLOT(RelayConfig, allow_remote_messenger)},
    {"allow_remote_admin", Kind::boolean, "", {}, Need::optional,
     "let admin_listen be a TCP address that is not loopback (no authentication, unencrypted: "
     "only behind a firewall); otherwise only a Unix socket or loopback",
     VEIL_SLOT(RelayConfig, allow_remote_admin)},
    {"crypto_workers", Kind::integer, "threads", {0, 128}, Need::optional,
     "threads that unwrap and seal packets; 0: one per CPU the relay may run on",
     VEIL_SLOT(RelayConfig, crypto_workers)},
    {"max_replay_entries", Kind::integer, "entries", {1, 1e10}, Need::optional,
     "replay tags remembered per epoch (about 31 bytes each)", VEIL_SLOT(RelayConfig, max_replay_entries)},
    {"deliver_retry_ms", Kind::duration_ms, "ms", {0, kDayMs, true}, Need::optional,
     "an unacknowledged delivery is sent again after this long", VEIL_SLOT(RelayConfig, deliver_retry)},
    {"recipients", Kind::recipients, "", {}, Need::provider_only,
     "who may receive through this provider, by service id", VEIL_SLOT(RelayConfig, recipients)},
    {"journal_dir", Kind::string, "path", {}, Need::optional,
     "directory of the journal that keeps accepted messages across crashes and restarts (created "
     "owner-only); required unless run_without_journal = true",
     VEIL_SLOT(RelayConfig, journal_dir)},
    {"run_without_journal", Kind::boolean, "", {}, Need::optional,
     "run with no journal: a crash or restart loses what was accepted and not yet delivered "
     "(benchmarks only); excludes journal_dir",
     VEIL_SLOT(RelayConfig, run_without_journal)},
    {"journal_commit_window_ms", Kind::duration_ms, "ms", {0, 1000}, Need::optional,
     "how long a journal commit waits for more to write with it (0: none; commits made during a "
     "sync always share the next one)",
     VEIL_SLOT(RelayConfig, journal_commit_window)},
    {"drain_timeout_ms", Kind::duration_ms, "ms", {0, kDayMs}, Need::optional,
     "on SIGTERM, how long pooled packets keep leaving at their scheduled times before the relay "
     "stops (what is left stays in the journal)",
     VEIL_SLOT(RelayConfig, drain_timeout)},
    {"metrics_file", Kind::string, "path", {}, Need::optional,
     "where aggregate metrics are written as JSON; empty: none", VEIL_SLOT(RelayConfig, metrics_file)},
    {"metrics_interval_ms", Kind::duration_ms, "ms", {0, kDayMs, true}, Need::optional,
     "how often metrics_file is rewritten", VEIL_SLOT(RelayConfig, metrics_interval)},
    {"log_level", Kind::string, "", {}, Need::optional,
     "the least severe log line written: debug, info, warn or error", VEIL_SLOT(RelayConfig, log_level)},
};

#undef VEIL_SLOT

// ---- text helpers

// An integer-valued number without a fraction or exponent; otherwise the shortest round trip.
std::string num(double v) {
  if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 1e15) {
    return std::to_string(static_cast<int64_t>(v));
  }
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

std::string range_text(const Range& r) {
  if (!r.bounded()) return "";
  if (r.hi == kInf) return (r.lo_open ? "> " : "≥ ") + num(r.lo);
  if (r.lo_open) return "> " + num(r.lo) + ", ≤ " + num(r.hi);
  return num(r.lo) + ".." + num(r.hi);
}

std::string strategy_names() {
  std::string out;
  for (auto s : {MixConfig::Strategy::none, MixConfig::Strategy::threshold, MixConfig::Strategy::timed,
                 MixConfig::Strategy::threshold_or_timed, MixConfig::Strategy::binomial,
                 MixConfig::Strategy::poisson}) {
    if (!out.empty()) out += ", ";
    out += strategy_name(s);
  }
  return out;
}

std::string found(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a float";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    case toml::node_type::date: return "a date";
    case toml::node_type::time: return "a time";
    case toml::node_type::date_time: return "a date-time";
    case toml::node_type::none: break;
  }
  return "nothing";
}

void wrong_type(Problems& p, const std::string& path, std::string_view expected, const toml::node& n) {
  p.push_back(path + ": expected " + std::string(expected) + ", found " + found(n));
}

// Edit distance (insertions, deletions, substitutions), for "did you mean".
std::size_t distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

// ---- reading

// `section` + "." + `key`, or `key` at the top.
std::string join(std::string_view section, std::string_view key) {
  return section.empty() ? std::string(key) : std::string(section) + "." + std::string(key);
}

template <class R>
bool is_section(std::span<const Field<R>> fields, std::string_view path) {
  for (const auto& f : fields) {
    if (f.path.size() > path.size() && f.path.substr(0, path.size()) == path && f.path[path.size()] == '.') {
      return true;
    }
  }
  return false;
}

// Reports every key of `t` (the table at `section`) that no field names: "<prefix><path>: unknown
// key", with the nearest known key of that table when one is close.
template <class R>
void check_keys(const toml::table& t, std::span<const Field<R>> fields, const std::string& prefix,
                const std::string& section, Problems& p) {
  for (auto&& [k, v] : t) {
    const std::string path = join(section, k.str());
    bool known = false;
    for (const auto& f : fields) known = known || f.path == path;
    if (known) continue;
    if (is_section(fields, path)) {
      if (const auto* sub = v.as_table()) {
        check_keys(*sub, fields, prefix, path, p);
      } else {
        wrong_type(p, prefix + path, "a table", v);
      }
      continue;
    }
    std::string hint;
    // Keys of earlier versions: say what replaced them.
    if (path == "directory") hint = " (the directory is a signed file now: directory_file, docs/directory.md)";
    if (path == "epoch_key_file") hint = " (epoch keys live in key_dir now: veil relay-keys init)";
    if (path == "epoch") hint = " (epochs follow the directory's schedule now)";
    std::size_t best = hint.empty() ? 3 : 0;  // suggest only within distance 2
    const std::string under = section.empty() ? "" : section + ".";
    for (const auto& f : fields) {
      if (f.path.substr(0, under.size()) != under) continue;
      std::string_view sibling = f.path.substr(under.size());
      sibling = sibling.substr(0, sibling.find('.'));
      const std::size_t d = distance(k.str(), sibling);
      if (d < best && d < sibling.size()) {
        best = d;
        hint = " (did you mean " + std::string(sibling) + "?)";
      }
    }
    p.push_back(prefix + path + ": unknown key" + hint);
  }
}

// The node at dotted `path` under `t`, if every table on the way is there.
const toml::node* find(const toml::table& t, std::string_view path) {
  const toml::table* at = &t;
  for (;;) {
    const auto dot = path.find('.');
    const toml::node* n = at->get(path.substr(0, dot));
    if (n == nullptr || dot == std::string_view::npos) return n;
    at = n->as_table();
    if (at == nullptr) return nullptr;
    path = path.substr(dot + 1);
  }
}

const std::string* as_string(const toml::node& n, const std::string& path, Problems& p) {
  const auto* s = n.as_string();
  if (s == nullptr) {
    wrong_type(p, path, "a string", n);
    return nullptr;
  }
  return &s->get();
}

std::optional<Value> read_recipients(const toml::node& n, const std::string& path, Problems& p) {
  const auto* t = n.as_table();
  if (t == nullptr) {
    wrong_type(p, path, "a table of service id = access key", n);
    return std::nullopt;
  }
  std::map<std::string, RecipientAccess> out;
  std::map<std::string, uint32_t> line_of;  // canonical service id -> its line
  bool ok = true;
  for (auto&& [k, v] : *t) {
    // Problems name the entry by its line, never by the service id: problem lines reach the logs.
    const uint32_t line = k.source().begin.line;
    const std::string where = path + " (line " + std::to_string(line) + ")";
    auto parsed = crypto::ServiceId::parse(k.str());
    std::string sid;
    if (!parsed) {
      p.push_back(where + ": not a service id (a UUID, or PNI: and a UUID)");
      ok = false;
    } else {
      // UUIDs are case-insensitive: the canonical form is what deliveries name.
      sid = parsed->to_string();
      if (auto [it, fresh] = line_of.emplace(sid, line); !fresh) {
        p.push_back(where + ": the same service id as line " + std::to_string(it->second));
        ok = false;
      }
    }
    const std::string* text = as_string(v, where, p);
    if (text == nullptr) {
      ok = false;
      continue;
    }
    RecipientAccess access;
    if (*text == "unrestricted") {
      access.unrestricted = true;
    } else {
      auto key = from_hex(*text);
      if (!key || key->size() != access.access_key.size()) {
        p.push_back(where + ": expected a 16-byte access key in hex (32 digits) or \"unrestricted\"");
        ok = false;
        if (key) wipe(*key);
        continue;
      }
      std::copy(key->begin(), key->end(), access.access_key.begin());
      wipe(*key);
    }
    out.emplace(sid, access);
  }
  if (!ok) return std::nullopt;
  return Value(std::move(out));
}


template <class R>
std::optional<Value> read_value(const toml::node& n, const Field<R>& f, const std::string& path, Problems& p) {
  switch (f.kind) {
    case Kind::string: {
      const std::string* s = as_string(n, path, p);
      if (s == nullptr) return std::nullopt;
      if (s->empty() && f.need == Need::required) {
        p.push_back(path + ": must not be empty");
        return std::nullopt;
      }
      if ((path == "name" || path.ends_with(".name")) && s->size() > kMaxHelloName) {
        p.push_back(path + ": must be at most 255 bytes (a peer link's hello carries it)");
        return std::nullopt;
      }
      return Value(*s);
    }
    case Kind::file_mode: {
      const std::string* s = as_string(n, path, p);
      if (s == nullptr) return std::nullopt;
      const bool octal = s->size() >= 3 && s->size() <= 4 &&
                         std::all_of(s->begin(), s->end(), [](char c) { return c >= '0' && c <= '7'; });
      const long mode = octal ? std::strtol(s->c_str(), nullptr, 8) : -1;
      if (!octal || mode > 0777) {
        p.push_back(path + ": \"" + *s + "\" is not a file mode (3 or 4 octal digits, e.g. \"0660\")");
        return std::nullopt;
      }
      if ((mode & 0600) != 0600 || (mode & 0007) != 0) {
        p.push_back(path + ": \"" + *s + "\" must let the owner read and write and give others nothing "
                    "(the group's bits are yours to choose)");
        return std::nullopt;
      }
      return Value(static_cast<int64_t>(mode));
    }
    case Kind::boolean: {
      const auto* b = n.as_boolean();
      if (b == nullptr) {
        wrong_type(p, path, "true or false", n);
        return std::nullopt;
      }
      return Value(static_cast<int64_t>(b->get()));
    }
    case Kind::integer: {
      const auto* i = n.as_integer();
      if (i == nullptr) {
        wrong_type(p, path, "an integer", n);
        return std::nullopt;
      }
      const int64_t v = i->get();
      if (!f.range.contains(static_cast<double>(v))) {
        p.push_back(path + ": " + std::to_string(v) + " is out of range (" + range_text(f.range) + ")");
        return std::nullopt;
      }
      return Value(v);
    }
    case Kind::number:
    case Kind::duration_ms: {
      double v = 0;
      if (const auto* i = n.as_integer()) {
        v = static_cast<double>(i->get());
      } else if (const auto* d = n.as_floating_point()) {
        v = d->get();
      } else {
        wrong_type(p, path, "a number", n);
        return std::nullopt;
      }
      if (!f.range.contains(v)) {
        p.push_back(path + ": " + num(v) + " is out of range (" + range_text(f.range) + ")");
        return std::nullopt;
      }
      if (f.kind == Kind::duration_ms) return Value(ms_to_micros(v));
      return Value(v);
    }
    case Kind::listen:
    case Kind::dial:
    case Kind::address: {
      const std::string* s = as_string(n, path, p);
      if (s == nullptr) return std::nullopt;
      auto e = parse_endpoint(*s, f.kind != Kind::address, f.kind == Kind::listen);
      if (const auto* why = std::get_if<std::string>(&e)) {
        p.push_back(path + ": " + *why);
        return std::nullopt;
      }
      return Value(std::get<Endpoint>(std::move(e)));
    }
    case Kind::strategy: {
      const std::string* s = as_string(n, path, p);
      if (s == nullptr) return std::nullopt;
      auto strategy = parse_strategy(*s);
      if (!strategy) {
        p.push_back(path + ": unknown strategy \"" + *s + "\" (one of " + strategy_names() + ")");
        return std::nullopt;
      }
      return Value(*strategy);
    }
    case Kind::identity_keys: {
      const auto* a = n.as_array();
      if (a == nullptr) {
        wrong_type(p, path, "an array of strings", n);
        return std::nullopt;
      }
      std::vector<crypto::IdentityPublicKey> keys;
      bool ok = a->size() > 0;
      if (!ok) p.push_back(path + ": must list at least one key");
      for (std::size_t i = 0; i < a->size(); ++i) {
        const std::string where = path + "[" + std::to_string(i) + "]";
        const std::string* s = as_string((*a)[i], where, p);
        if (s == nullptr) {
          ok = false;
          continue;
        }
        auto bytes = from_hex(*s);
        if (bytes && bytes->size() == 32 && std::all_of(bytes->begin(), bytes->end(), [](uint8_t b) { return b == 0; })) {
          p.push_back(where + ": the all-zero placeholder of the example config: replace it with an "
                              "authority's key (the hex after veil-authority-key/1 in its AUTH.pub)");
          ok = false;
          continue;
        }
        auto key = bytes ? crypto::IdentityPublicKey::parse(*bytes) : Result<crypto::IdentityPublicKey>(Error::invalid_key);
        if (!key) {
          p.push_back(where + ": not an Ed25519 public key (expected 64 hex digits)");
          ok = false;
          continue;
        }
        if (std::find(keys.begin(), keys.end(), *key) != keys.end()) {
          p.push_back(where + ": listed twice");
          ok = false;
          continue;
        }
        keys.push_back(*key);
      }
      if (!ok) return std::nullopt;
      return Value(std::move(keys));
    }
    case Kind::string_list: {
      const auto* a = n.as_array();
      if (a == nullptr) {
        wrong_type(p, path, "an array of strings", n);
        return std::nullopt;
      }
      std::vector<std::string> out;
      bool ok = true;
      for (std::size_t i = 0; i < a->size(); ++i) {
        const std::string where = path + "[" + std::to_string(i) + "]";
        const std::string* s = as_string((*a)[i], where, p);
        if (s != nullptr && s->empty()) p.push_back(where + ": must not be empty");
        if (s == nullptr || s->empty()) {
          ok = false;
          continue;
        }
        out.push_back(*s);
      }
      if (!ok) return std::nullopt;
      return Value(std::move(out));
    }
    case Kind::recipients:
      return read_recipients(n, path, p);
  }
  return std::nullopt;
}

// Reads the keys `fields` name from `t` into `out` (problem paths start with `prefix`); `given`
// gets each key present in `t`, mapped to whether its value was valid.
template <class R>
void read_table(const toml::table& t, std::span<const Field<R>> fields, const std::string& prefix, R& out,
                Problems& p, std::map<std::string_view, bool>& given) {
  check_keys(t, fields, prefix, "", p);
  for (const auto& f : fields) {
    const std::string path = prefix + std::string(f.path);
    const toml::node* n = find(t, f.path);
    if (n == nullptr) {
      if (f.need == Need::required) p.push_back(path + ": required key is missing");
      continue;
    }
    std::optional<Value> v = read_value(*n, f, path, p);
    given[f.path] = v.has_value();
    if (v) f.set(out, std::move(*v));
  }
}


bool is_unset(const Value& v) {
  if (std::holds_alternative<std::monostate>(v)) return true;
  if (const auto* s = std::get_if<std::string>(&v)) return s->empty();
  if (const auto* e = std::get_if<Endpoint>(&v)) return !e->enabled();
  if (const auto* m = std::get_if<std::map<std::string, RecipientAccess>>(&v)) return m->empty();
  if (const auto* l = std::get_if<std::vector<std::string>>(&v)) return l->empty();
  if (const auto* k = std::get_if<std::vector<crypto::IdentityPublicKey>>(&v)) return k->empty();
  return false;
}

// ---- reference

std::string type_text(Kind k) {
  switch (k) {
    case Kind::string:
    case Kind::strategy: return "string";
    case Kind::boolean: return "boolean";
    case Kind::integer: return "integer";
    case Kind::number:
    case Kind::duration_ms: return "number";
    case Kind::listen:
    case Kind::dial: return "endpoint";
    case Kind::address: return "address";
    case Kind::identity_keys: return "array of strings (hex)";
    case Kind::string_list: return "array of strings";
    case Kind::recipients: return "table";
    case Kind::file_mode: return "string (octal)";
  }
  return "";
}

template <class R>
std::string range_text(const Field<R>& f) {
  switch (f.kind) {
    case Kind::integer:
    case Kind::number:
    case Kind::duration_ms: return range_text(f.range);
    case Kind::string: return f.need == Need::required ? "non-empty" : "";
    case Kind::boolean: return "true, false";
    case Kind::listen: return "host:port (port 0: any free port) or unix:/path";
    case Kind::dial: return "host:port or unix:/path";
    case Kind::address: return "host:port";
    case Kind::strategy: return strategy_names();
    case Kind::identity_keys: return "32 bytes each, distinct";
    case Kind::string_list: return "non-empty strings";
    case Kind::recipients: return "service id = 16-byte hex access key or \"unrestricted\"";
    case Kind::file_mode: return "owner rw, other none: \"0600\"..\"0670\"";
  }
  return "";
}

template <class R>
std::string default_text(const Field<R>& f, const R& defaults) {
  if (f.need == Need::required) return "required";
  if (f.need == Need::provider_required) return "required for a provider";
  const Value v = f.get(defaults);
  if (const auto* i = std::get_if<int64_t>(&v)) {
    if (f.kind == Kind::boolean) return *i != 0 ? "true" : "false";
    if (f.kind == Kind::file_mode) {
      char mode[8];
      std::snprintf(mode, sizeof mode, "\"%04llo\"", static_cast<unsigned long long>(*i));
      return mode;
    }
    return f.kind == Kind::duration_ms ? num(micros_to_ms(*i)) : std::to_string(*i);
  }
  if (const auto* d = std::get_if<double>(&v)) return num(*d);
  if (const auto* s = std::get_if<std::string>(&v)) return "\"" + *s + "\"";
  if (const auto* s = std::get_if<MixConfig::Strategy>(&v)) return "\"" + std::string(strategy_name(*s)) + "\"";
  if (std::holds_alternative<std::vector<std::string>>(v)) return "[]";
  if (std::holds_alternative<std::map<std::string, RecipientAccess>>(v)) return "{}";
  if (const auto* e = std::get_if<Endpoint>(&v); e != nullptr && e->enabled()) {
    if (!e->unix_path.empty()) return "\"unix:" + e->unix_path + "\"";
    const bool v6 = e->host.find(':') != std::string::npos;
    return "\"" + (v6 ? "[" + e->host + "]" : e->host) + ":" + std::to_string(e->port) + "\"";
  }
  return "none";
}

template <class R>
void describe(std::span<const Field<R>> fields, std::string_view prefix, std::vector<ConfigKey>& out) {
  const R defaults{};
  for (const auto& f : fields) {
    out.push_back({std::string(prefix) + std::string(f.path), type_text(f.kind), std::string(f.unit),
                   default_text(f, defaults), range_text(f),
                   std::string(f.description) +
                       (f.need == Need::provider_only || f.need == Need::provider_required
                            ? " (provider relays only)"
                            : "")});
  }
}

}  // namespace

std::variant<Endpoint, std::string> parse_endpoint(std::string_view text, bool allow_unix,
                                                   bool allow_port_zero) {
  Endpoint e;
  constexpr std::string_view kUnix = "unix:";
  if (text.substr(0, kUnix.size()) == kUnix) {
    if (!allow_unix) return std::string("expected \"host:port\" (peers are reached over TCP)");
    e.unix_path = std::string(text.substr(kUnix.size()));
    if (e.unix_path.empty()) return std::string("empty unix socket path");
    if (e.unix_path.find('\0') != std::string::npos) return std::string("unix socket path holds a NUL");
    constexpr std::size_t kMax = sizeof(sockaddr_un{}.sun_path) - 1;
    if (e.unix_path.size() > kMax) {
      return "unix socket path longer than " + std::to_string(kMax) + " bytes";
    }
    return e;
  }
  const std::string expected =
      allow_unix ? "expected \"host:port\" or \"unix:/path\"" : "expected \"host:port\"";
  std::string host;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return expected + " (an IPv6 host as [address]:port)";
    }
    host = std::string(text.substr(1, close - 1));
    port = text.substr(close + 2);
    in6_addr a6{};
    if (host.find('\0') != std::string::npos || ::inet_pton(AF_INET6, host.c_str(), &a6) != 1) {
      return "\"" + host + "\" is not a numeric IPv6 address";
    }
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return expected;
    host = std::string(text.substr(0, colon));
    port = text.substr(colon + 1);
    if (host.find(':') != std::string::npos) {
      return "an IPv6 host goes in brackets: [" + host + "]:" + std::string(port);
    }
    in_addr a4{};
    if (host.find('\0') != std::string::npos || ::inet_pton(AF_INET, host.c_str(), &a4) != 1) {
      return "\"" + host + "\" is not a numeric IPv4 address (host names are not resolved)";
    }
  }
  unsigned value = 0;
  const char* end = port.data() + port.size();
  const auto [ptr, ec] = std::from_chars(port.data(), end, value);
  if (port.empty() || ec != std::errc() || ptr != end || value > 65535) {
    return "port \"" + std::string(port) + "\" is not a number within 0..65535";
  }
  if (value == 0 && !allow_port_zero) return std::string("port 0 is only for a listening socket");
  e.host = std::move(host);
  e.port = static_cast<uint16_t>(value);
  return e;
}

void read_fields(const toml::table& root, RelayConfig& out, std::vector<std::string>& problems) {
  std::map<std::string_view, bool> given;
  read_table<RelayConfig>(root, kRelayFields, "", out, problems, given);
  out.id = relay_id(out.name);
  const auto provider = given.find("provider");
  if (provider != given.end() && !provider->second) return;  // a bad provider: roles are unknown
  for (const auto& f : kRelayFields) {
    if (f.need != Need::provider_only && f.need != Need::provider_required) continue;
    const auto g = given.find(f.path);
    const std::string path(f.path);
    if (!out.provider.empty()) {
      if (f.need == Need::provider_required && g == given.end()) {
        problems.push_back(path + ": required for a provider relay (provider is set)");
      }
    } else if (g != given.end() && g->second && !is_unset(f.get(out))) {
      problems.push_back(path + ": only a provider relay uses this key (set provider, or leave it out)");
    }
  }
}

}  // namespace config_detail

std::vector<ConfigKey> config_reference() {
  std::vector<ConfigKey> out;
  config_detail::describe<RelayConfig>(config_detail::kRelayFields, "", out);
  return out;
}

}  // namespace veil::relay
