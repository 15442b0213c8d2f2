// veil-relay's logs: one JSON object per line on stderr through spdlog, for journald and log
// shippers: {"time":"2026-11-30T15:00:00.000Z","level":"info","msg":"peer link up","peer":"mix-1"}.
// Lines name relays, config keys and counts; never a user, a recipient, an address of a
// submitter, or the size or time of a single message.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace veil::relay::logs {

enum class Level { debug, info, warn, error };

// Sets up the stderr logger at `level` ("debug", "info", "warn" or "error"; anything else: info).
void init(const std::string& level);
// Changes the level (a reload); false, and no change, for an unknown name.
bool set_level(const std::string& level);
// One line: time, level, `msg`, then the members of `fields` (a JSON object) in their order.
void write(Level level, std::string_view msg, const nlohmann::json& fields = nlohmann::json::object());

inline void info(std::string_view msg, const nlohmann::json& fields = nlohmann::json::object()) {
  write(Level::info, msg, fields);
}
inline void warn(std::string_view msg, const nlohmann::json& fields = nlohmann::json::object()) {
  write(Level::warn, msg, fields);
}
inline void error(std::string_view msg, const nlohmann::json& fields = nlohmann::json::object()) {
  write(Level::error, msg, fields);
}

}  // namespace veil::relay::logs
