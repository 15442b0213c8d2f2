// Relay configuration: TOML text to a checked RelayConfig (the keys themselves are read by the
// field table in config_fields.cpp), checks that span several keys, the key
// reference for docs/config.md, and JSON to TOML for the simulation's generated configs.
#include "proxy/relay/core/config.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <toml++/toml.h>

#include "base/utf8.h"
#include "proxy/relay/core/config_fields.h"

namespace veil::relay {
namespace {

using Problems = std::vector<std::string>;

bool has_problem(const Problems& p, const std::string& path) {
  for (const std::string& line : p) {
    if (line.size() > path.size() && line.compare(0, path.size(), path) == 0 &&
        (line[path.size()] == ':' || line[path.size()] == '.' || line[path.size()] == '[')) {
      return true;
    }
  }
  return false;
}

// The mix parameters as make_mix will judge them, unless a mix key already has a problem (then
// the value judged here is a default, not what the file says).
void check_mix(const RelayConfig& c, Problems& p) {
  for (const std::string& why : validate_mix(c.mix)) {
    const std::string line = "mix." + why;
    if (!has_problem(p, line.substr(0, line.find(':')))) p.push_back(line);
  }
}

// The log levels the daemon knows (veil-relay's logs, spdlog's level names).
void check_log_level(const RelayConfig& c, Problems& p) {
  static const char* const kLevels[] = {"debug", "info", "warn", "error"};
  for (const char* l : kLevels) {
    if (c.log_level == l) return;
  }
  if (!has_problem(p, "log_level")) {
    p.push_back("log_level: \"" + c.log_level + "\" is not a level (one of debug, info, warn, error)");
  }
}

// Durability is never off by omission.
void check_journal(const RelayConfig& c, Problems& p) {
  if (c.journal_dir.empty() && !c.run_without_journal) {
    p.push_back("journal_dir: required (or run_without_journal = true, for a relay that may lose "
                "what it accepted when it crashes or restarts)");
  } else if (!c.journal_dir.empty() && c.run_without_journal) {
    p.push_back("run_without_journal: true contradicts journal_dir (leave one out)");
  }
}

// Whether `host` (an IP literal) is a loopback address: 127.0.0.0/8, ::1, or ::ffff:127.x.y.z.
bool loopback_host(const std::string& host) {
  in_addr v4{};
  if (::inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (::inet_pton(AF_INET6, host.c_str(), &v6) != 1) return false;
  if (IN6_IS_ADDR_LOOPBACK(&v6)) return true;
  return IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127;
}

// The messenger server is a local party: its interfaces take a Unix socket or loopback TCP
// unless the operator says otherwise.
void check_messenger_interfaces(const RelayConfig& c, Problems& p) {
  if (c.allow_remote_messenger) return;
  const std::pair<const char*, const Endpoint*> interfaces[] = {{"submit_listen", &c.submit_listen},
                                                                {"deliver_to", &c.deliver_to}};
  for (const auto& [key, e] : interfaces) {
    if (!e->unix_path.empty() || e->host.empty() || loopback_host(e->host)) continue;
    if (has_problem(p, key)) continue;
    p.push_back(std::string(key) + ": " + e->host +
                " is not a loopback address: the messenger server's interfaces take a Unix socket "
                "or loopback TCP (allow_remote_messenger = true accepts it, unencrypted on that "
                "network)");
  }
}

// The admin endpoint has no authentication: it serves on a Unix socket or loopback TCP unless the
// operator says otherwise (a scraper on another host, behind the operator's own firewall).
void check_admin_interface(const RelayConfig& c, Problems& p) {
  const Endpoint& e = c.admin_listen;
  if (c.allow_remote_admin || !e.unix_path.empty() || e.host.empty() || loopback_host(e.host)) return;
  if (has_problem(p, "admin_listen")) return;
  p.push_back("admin_listen: " + e.host +
              " is not a loopback address: the admin endpoint has no authentication and takes a "
              "Unix socket or loopback TCP (allow_remote_admin = true accepts it, for a scraper "
              "behind a firewall)");
}

// Why `dir` cannot serve as the journal directory, if it cannot: the checks the journal makes at
// open that need no database (it creates a missing directory, owner-only, in an existing parent).
std::optional<std::string> journal_dir_problem(const std::string& dir) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) {
    if (errno != ENOENT) return dir + ": " + std::strerror(errno);
    const std::string parent = std::filesystem::path(dir).parent_path().string();
    struct stat pst {};
    if (!parent.empty() && (::stat(parent.c_str(), &pst) != 0 || !S_ISDIR(pst.st_mode))) {
      return dir + ": cannot be created: its parent directory does not exist";
    }
    return std::nullopt;
  }
  if (!S_ISDIR(st.st_mode)) return dir + " is not a directory";
  if ((st.st_mode & 077) != 0) return dir + " must be accessible by its owner only (chmod 700)";
  return std::nullopt;
}

std::string join_lines(const Problems& p) {
  std::string out;
  for (const std::string& line : p) {
    if (!out.empty()) out += '\n';
    out += line;
  }
  return out;
}

std::optional<std::string> read_text(const std::string& path, std::string& why) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    why = "cannot read " + path + ": " + std::strerror(errno);
    return std::nullopt;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  if (in.bad()) {
    why = "cannot read " + path;
    return std::nullopt;
  }
  return ss.str();
}

// ---- JSON to TOML

using nlohmann::json;

toml::table table_from_json(const json& object, const std::string& path);
toml::array array_from_json(const json& array, const std::string& path);

template <class Put>
void convert(const json& v, const std::string& path, Put&& put) {
  switch (v.type()) {
    case json::value_t::object: put(table_from_json(v, path)); return;
    case json::value_t::array: put(array_from_json(v, path)); return;
    case json::value_t::string: put(v.get<std::string>()); return;
    case json::value_t::boolean: put(v.get<bool>()); return;
    case json::value_t::number_integer: put(v.get<int64_t>()); return;
    case json::value_t::number_unsigned: {
      const auto u = v.get<uint64_t>();
      if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        throw std::invalid_argument("toml_from_json: " + path + ": integer above INT64_MAX");
      }
      put(static_cast<int64_t>(u));
      return;
    }
    case json::value_t::number_float: put(v.get<double>()); return;
    case json::value_t::null:
    case json::value_t::binary:
    case json::value_t::discarded: break;
  }
  throw std::invalid_argument("toml_from_json: " + path + ": no TOML equivalent (" + v.type_name() + ")");
}

toml::table table_from_json(const json& object, const std::string& path) {
  toml::table t;
  for (const auto& item : object.items()) {
    const std::string& key = item.key();
    convert(item.value(), path.empty() ? key : path + "." + key,
            [&](auto&& x) { t.insert_or_assign(key, std::forward<decltype(x)>(x)); });
  }
  return t;
}

toml::array array_from_json(const json& array, const std::string& path) {
  toml::array a;
  for (std::size_t i = 0; i < array.size(); ++i) {
    convert(array[i], path + "[" + std::to_string(i) + "]",
            [&](auto&& x) { a.push_back(std::forward<decltype(x)>(x)); });
  }
  return a;
}

std::string cell(const std::string& s) {
  std::string out;
  for (char ch : s) {
    if (ch == '|') out += '\\';
    out += ch;
  }
  return out;
}

}  // namespace

crypto::RelayId relay_id(const std::string& name) {
  std::array<uint8_t, crypto_hash_sha256_BYTES> h{};
  crypto_hash_sha256(h.data(), reinterpret_cast<const uint8_t*>(name.data()), name.size());
  crypto::RelayId id{};
  std::copy_n(h.begin(), id.size(), id.begin());
  return id;
}

namespace {

// One printable line of UTF-8: control characters (a parse error may quote a line feed of the
// file) and, in a line that is not UTF-8, every byte above 0x7f, written as \xNN.
std::string printable_line(const std::string& line) {
  const bool utf8 = is_valid_utf8(line);
  std::string out;
  out.reserve(line.size());
  for (const char ch : line) {
    const auto b = static_cast<unsigned char>(ch);
    if (b < 0x20 || b == 0x7f || (!utf8 && b >= 0x80)) {
      static const char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[b >> 4];
      out += kHex[b & 15];
    } else {
      out += ch;
    }
  }
  return out;
}

ConfigResult build_config_lines(const std::string& toml_text, int64_t now_unix_s);

}  // namespace

ConfigResult build_config(const std::string& toml_text, int64_t now_unix_s) {
  ConfigResult r = build_config_lines(toml_text, now_unix_s);
  if (auto* p = std::get_if<ConfigProblems>(&r)) {
    for (std::string& line : p->problems) line = printable_line(line);
  }
  return r;
}

namespace {

ConfigResult build_config_lines(const std::string& toml_text, int64_t now_unix_s) {
  toml::table root;
  try {
    root = toml::parse(toml_text);
  } catch (const toml::parse_error& e) {
    const auto& at = e.source().begin;
    return ConfigProblems{{"line " + std::to_string(at.line) + ", column " + std::to_string(at.column) +
                           ": " + std::string(e.description())}};
  }
  RelayConfig c;
  Problems p;
  config_detail::read_fields(root, c, p);
  check_mix(c, p);
  check_journal(c, p);
  check_log_level(c, p);
  check_messenger_interfaces(c, p);
  check_admin_interface(c, p);
  if (!c.journal_dir.empty()) {
    if (auto why = journal_dir_problem(c.journal_dir)) p.push_back("journal_dir: " + *why);
  }
  // The directory is judged only when the keys that lead to it are sound.
  if (!has_problem(p, "key_dir") && !has_problem(p, "directory_file") &&
      !has_problem(p, "directory_authorities") && !has_problem(p, "directory_threshold") &&
      !has_problem(p, "epoch_overlap_ms") && !has_problem(p, "name") && !has_problem(p, "provider") &&
      !has_problem(p, "mix_hops") && !c.key_dir.empty() && !c.directory_file.empty()) {
    for (std::string& why : attach_directory(c, now_unix_s)) p.push_back(std::move(why));
  }
  if (!p.empty()) return ConfigProblems{std::move(p)};
  return c;
}

}  // namespace

ConfigResult check_reload(const std::string& toml_text, int64_t now_unix_s, const RelayConfig& running) {
  ConfigResult r = build_config(toml_text, now_unix_s);
  const auto* next = std::get_if<RelayConfig>(&r);
  if (next == nullptr) return r;
  Problems p;
  const auto identity = [&](bool changed, const char* key) {
    if (changed) p.push_back(std::string(key) + ": changed: needs a restart (the directory is judged against it)");
  };
  identity(next->name != running.name, "name");
  identity(next->provider != running.provider, "provider");
  identity(next->key_dir != running.key_dir, "key_dir");
  identity(next->directory_file != running.directory_file, "directory_file");
  if (next->directory_serial < running.directory_serial) {
    p.push_back("directory_file: serial " + std::to_string(next->directory_serial) +
                " is older than the running directory's " + std::to_string(running.directory_serial));
  }
  const EpochTiming& t = running.epoch_timing;
  if (next->epoch_timing.genesis != t.genesis || next->epoch_timing.length != t.length) {
    p.push_back("directory_file: another epoch schedule: needs a restart");
  }
  if (!p.empty()) return ConfigProblems{std::move(p)};
  return r;
}

RelayConfig parse_config(const std::string& toml_text, int64_t now_unix_s) {
  ConfigResult r = build_config(toml_text, now_unix_s);
  if (const auto* bad = std::get_if<ConfigProblems>(&r)) throw std::runtime_error(join_lines(bad->problems));
  return std::get<RelayConfig>(std::move(r));
}

RelayConfig load_config(const std::string& path, int64_t now_unix_s) {
  std::string why;
  const auto text = read_text(path, why);
  if (!text) throw std::runtime_error(why);
  return parse_config(*text, now_unix_s);
}

std::vector<std::string> check_config_file(const std::string& path, int64_t now_unix_s) {
  std::string why;
  const auto text = read_text(path, why);
  if (!text) return {why};
  ConfigResult r = build_config(*text, now_unix_s);
  if (auto* bad = std::get_if<ConfigProblems>(&r)) return std::move(bad->problems);
  return {};
}

std::string config_reference_markdown() {
  std::string out =
      "| Key | Type | Unit | Default | Range | Description |\n"
      "|-----|------|------|---------|-------|-------------|\n";
  for (const ConfigKey& k : config_reference()) {
    const bool literal = k.default_value.rfind("required", 0) != 0 && k.default_value != "none";
    out += "| `" + k.path + "` | " + k.type + " | " + k.unit + " | " +
           (literal ? "`" + k.default_value + "`" : k.default_value) + " | " + cell(k.range) + " | " +
           cell(k.description) + " |\n";
  }
  return out;
}

std::string toml_from_json(const nlohmann::json& config) {
  if (!config.is_object()) throw std::invalid_argument("toml_from_json: the top level must be an object");
  std::ostringstream os;
  os << table_from_json(config, "") << "\n";
  return os.str();
}

}  // namespace veil::relay
