// Strict JSON reading for signed documents: duplicate keys and deep nesting are refused.
#include "proxy/relay/core/signed_json.h"

#include <set>
#include <vector>

namespace veil::relay::signed_json {

Error refuse(std::string* detail, Error e, std::string why) {
  if (detail != nullptr) *detail = std::move(why);
  return e;
}

std::optional<json> parse(std::string_view text, std::size_t max_depth, std::string* why) {
  // The callback sees every key as it is read; a stack of the keys seen per open object finds a
  // key given twice (nlohmann keeps the last one silently, another reader might keep the first).
  std::vector<std::set<std::string>> open;
  std::string problem;
  const json::parser_callback_t check = [&](int depth, json::parse_event_t event, json& parsed) {
    if (!problem.empty()) return false;
    switch (event) {
      case json::parse_event_t::object_start:
        open.emplace_back();
        [[fallthrough]];
      case json::parse_event_t::array_start:
        if (static_cast<std::size_t>(depth) >= max_depth) {
          problem = "nested deeper than " + std::to_string(max_depth) + " levels";
        }
        break;
      case json::parse_event_t::object_end:
        if (!open.empty()) open.pop_back();
        break;
      case json::parse_event_t::key:
        if (!open.empty() && !open.back().insert(parsed.get<std::string>()).second) {
          problem = "the key \"" + parsed.get<std::string>() + "\" appears twice in one object";
        }
        break;
      default:
        break;
    }
    return true;
  };
  json v = json::parse(text.begin(), text.end(), check, false);
  if (!problem.empty()) {
    if (why != nullptr) *why = problem;
    return std::nullopt;
  }
  if (v.is_discarded()) {
    if (why != nullptr) *why = "not a JSON text (or a string that is not UTF-8)";
    return std::nullopt;
  }
  return v;
}

Error expect_fields(const json& v, std::string_view what, std::initializer_list<std::string_view> keys,
                    std::string* why) {
  if (!v.is_object()) return refuse(why, Error::malformed, std::string(what) + ": not a JSON object");
  for (std::string_view k : keys) {
    if (!v.contains(k)) {
      return refuse(why, Error::malformed, std::string(what) + ": missing \"" + std::string(k) + "\"");
    }
  }
  for (const auto& [k, value] : v.items()) {
    bool known = false;
    for (std::string_view want : keys) known = known || want == k;
    if (!known) return refuse(why, Error::malformed, std::string(what) + ": unknown field \"" + k + "\"");
  }
  return Error::ok;
}

std::optional<std::string> get_string(const json& v, std::string_view what, std::string_view key,
                                      std::string* why) {
  const json& f = v.at(key);
  if (!f.is_string()) {
    refuse(why, Error::malformed, std::string(what) + "." + std::string(key) + ": not a string");
    return std::nullopt;
  }
  return f.get<std::string>();
}

std::optional<uint64_t> get_uint(const json& v, std::string_view what, std::string_view key,
                                 uint64_t max, std::string* why) {
  const json& f = v.at(key);
  // Integers only: 1.0 and 1e3 are floats to nlohmann and are refused.
  if (!f.is_number_unsigned()) {
    refuse(why, Error::malformed,
           std::string(what) + "." + std::string(key) + ": not a non-negative integer");
    return std::nullopt;
  }
  const uint64_t n = f.get<uint64_t>();
  if (n > max) {
    refuse(why, Error::malformed,
           std::string(what) + "." + std::string(key) + ": above " + std::to_string(max));
    return std::nullopt;
  }
  return n;
}

std::optional<Bytes> get_hex(const json& v, std::string_view what, std::string_view key,
                             std::size_t size, std::string* why) {
  auto s = get_string(v, what, key, why);
  if (!s) return std::nullopt;
  auto b = from_hex(*s);
  if (!b || b->size() != size) {
    refuse(why, Error::malformed, std::string(what) + "." + std::string(key) + ": not " +
                                      std::to_string(size) + " bytes in hex");
    return std::nullopt;
  }
  return b;
}

Bytes signing_message(std::string_view prefix, std::string_view body) {
  Bytes m;
  m.reserve(prefix.size() + body.size());
  append(m, as_bytes(prefix));
  append(m, as_bytes(body));
  return m;
}

}  // namespace veil::relay::signed_json
