// The field table of the relay config (config_fields.cpp) and what is driven by it. Internal to
// proxy/relay/core/config*.cpp; the public API is config.h.
#pragma once

#include <set>
#include <string>
#include <string_view>
#include <toml++/toml.h>
#include <variant>
#include <vector>

#include "proxy/relay/core/config.h"

namespace veil::relay::config_detail {

// Reads every key of `root` into `out` as the field table says, appending one line to `problems`
// per unknown key, wrong type, value out of range, missing required key, and key that only a
// provider relay may set on a mix. Keys with a problem keep their defaults in `out`.
void read_fields(const toml::table& root, RelayConfig& out, std::vector<std::string>& problems);

// "host:port" (a numeric IPv4 literal, or an IPv6 literal in brackets) or, when `allow_unix`,
// "unix:/path". Port 0 only when `allow_port_zero`. The endpoint, or why `text` is not one.
std::variant<Endpoint, std::string> parse_endpoint(std::string_view text, bool allow_unix,
                                                   bool allow_port_zero);

}  // namespace veil::relay::config_detail
