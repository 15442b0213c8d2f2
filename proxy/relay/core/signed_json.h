// Strict JSON reading for signed descriptors and directories (internal to descriptor.cpp and
// directory.cpp): no duplicate keys, bounded nesting, exact field sets, and one line of detail
// for every refusal.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "base/bytes.h"
#include "base/error.h"

namespace veil::relay::signed_json {

using nlohmann::json;

// Sets *detail (when given) to `why` and returns `e`.
Error refuse(std::string* detail, Error e, std::string why);

// The JSON value of `text`; nullopt (and *why) when `text` is not one JSON text, holds an object
// with a key twice, nests deeper than `max_depth`, or has a string that is not UTF-8.
std::optional<json> parse(std::string_view text, std::size_t max_depth, std::string* why);

// ok when `v` is an object whose keys are exactly `keys`; otherwise `malformed` with *why naming
// the first missing or extra key (`what` names the object).
Error expect_fields(const json& v, std::string_view what, std::initializer_list<std::string_view> keys,
                    std::string* why);

// `v[key]` as a string / a non-negative integer ≤ max / hex of exactly `size` bytes; nullopt and
// *why ("<what>.<key>: ...") otherwise. The key must exist (expect_fields first).
std::optional<std::string> get_string(const json& v, std::string_view what, std::string_view key,
                                      std::string* why);
std::optional<uint64_t> get_uint(const json& v, std::string_view what, std::string_view key,
                                 uint64_t max, std::string* why);
std::optional<Bytes> get_hex(const json& v, std::string_view what, std::string_view key,
                             std::size_t size, std::string* why);

// The message a signature covers: `prefix` || body bytes.
Bytes signing_message(std::string_view prefix, std::string_view body);

}  // namespace veil::relay::signed_json
