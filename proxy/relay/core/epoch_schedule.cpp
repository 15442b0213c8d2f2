// Epoch arithmetic with every overflow checked.
#include "proxy/relay/core/epoch_schedule.h"

#include <limits>

namespace veil::relay {
namespace {

constexpr int64_t kMicros = 1'000'000;
// No start time (in seconds) beyond this converts to µs without overflow.
constexpr int64_t kMaxStartS = std::numeric_limits<int64_t>::max() / kMicros;

}  // namespace

Error validate(const EpochSchedule& s) {
  if (s.genesis_unix_s < 0 || s.genesis_unix_s > kMaxGenesisUnixS) return Error::invalid_argument;
  if (s.length_s < kMinEpochLengthS || s.length_s > kMaxEpochLengthS) return Error::invalid_argument;
  return Error::ok;
}

std::optional<uint64_t> epoch_at(const EpochSchedule& s, int64_t wall_us) {
  if (validate(s) != Error::ok) return std::nullopt;
  const int64_t genesis_us = s.genesis_unix_s * kMicros;  // ≤ kMaxGenesisUnixS · 10^6: fits
  if (wall_us < genesis_us) return std::nullopt;
  // Both non-negative here, so the difference cannot overflow.
  return static_cast<uint64_t>((wall_us - genesis_us) / (s.length_s * kMicros));
}

std::optional<uint64_t> epoch_at_s(const EpochSchedule& s, int64_t unix_s) {
  if (validate(s) != Error::ok) return std::nullopt;
  if (unix_s < s.genesis_unix_s) return std::nullopt;
  return static_cast<uint64_t>((unix_s - s.genesis_unix_s) / s.length_s);
}

Result<int64_t> start_s(const EpochSchedule& s, uint64_t epoch) {
  if (validate(s) != Error::ok) return Error::invalid_argument;
  if (epoch > static_cast<uint64_t>(kMaxStartS)) return Error::invalid_argument;
  int64_t offset = 0;
  int64_t start = 0;
  if (__builtin_mul_overflow(static_cast<int64_t>(epoch), s.length_s, &offset) ||
      __builtin_add_overflow(s.genesis_unix_s, offset, &start) || start > kMaxStartS) {
    return Error::invalid_argument;
  }
  return start;
}

Result<int64_t> start_us(const EpochSchedule& s, uint64_t epoch) {
  auto start = start_s(s, epoch);
  if (!start) return start.error();
  return *start * kMicros;
}

Result<int64_t> end_s(const EpochSchedule& s, uint64_t epoch) {
  if (epoch == std::numeric_limits<uint64_t>::max()) return Error::invalid_argument;
  return start_s(s, epoch + 1);
}

Result<int64_t> end_us(const EpochSchedule& s, uint64_t epoch) {
  if (epoch == std::numeric_limits<uint64_t>::max()) return Error::invalid_argument;
  return start_us(s, epoch + 1);
}

}  // namespace veil::relay
