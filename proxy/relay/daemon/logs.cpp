// The stderr JSON logger on spdlog (logs.h).
#include "proxy/relay/daemon/logs.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <optional>

namespace veil::relay::logs {

namespace {

std::shared_ptr<spdlog::logger>& logger() {
  static std::shared_ptr<spdlog::logger> l;
  return l;
}

std::optional<spdlog::level::level_enum> parse(const std::string& name) {
  if (name == "debug") return spdlog::level::debug;
  if (name == "info") return spdlog::level::info;
  if (name == "warn") return spdlog::level::warn;
  if (name == "error") return spdlog::level::err;
  return std::nullopt;
}

spdlog::level::level_enum to_spdlog(Level l) {
  switch (l) {
    case Level::debug: return spdlog::level::debug;
    case Level::info: return spdlog::level::info;
    case Level::warn: return spdlog::level::warn;
    case Level::error: return spdlog::level::err;
  }
  return spdlog::level::info;
}

}  // namespace

void init(const std::string& level) {
  auto l = std::make_shared<spdlog::logger>("veil-relay", std::make_shared<spdlog::sinks::stderr_sink_mt>());
  // %v is the rest of the object, already JSON: "level":"...","msg":"...", then the fields (the
  // level spelled as log_level spells it, not as spdlog does).
  l->set_pattern(R"({"time":"%Y-%m-%dT%H:%M:%S.%eZ",%v})", spdlog::pattern_time_type::utc);
  l->set_level(parse(level).value_or(spdlog::level::info));
  l->flush_on(spdlog::level::debug);  // every line reaches journald at once
  logger() = std::move(l);
}

bool set_level(const std::string& level) {
  const auto l = parse(level);
  if (!l || !logger()) return false;
  logger()->set_level(*l);
  return true;
}

void write(Level level, std::string_view msg, const nlohmann::json& fields) {
  if (!logger()) init("info");
  if (!logger()->should_log(to_spdlog(level))) return;
  static const char* const kNames[] = {"debug", "info", "warn", "error"};
  nlohmann::ordered_json line;
  line["level"] = kNames[static_cast<int>(level)];
  line["msg"] = std::string(msg);
  for (const auto& [k, v] : fields.items()) line[k] = v;
  std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  // Without its braces: the pattern supplies them around time and level.
  logger()->log(to_spdlog(level), std::string_view(text).substr(1, text.size() - 2));
}

}  // namespace veil::relay::logs
