// The epoch schedule: epoch N of a network covers [genesis + N·length, genesis + (N+1)·length).
#pragma once

#include <cstdint>
#include <optional>

#include "base/error.h"

namespace veil::relay {

inline constexpr int64_t kMinEpochLengthS = 60;          // 1 minute
inline constexpr int64_t kMaxEpochLengthS = 7 * 86'400;  // 7 days
// The latest genesis accepted: 9999-12-31T23:59:59Z, so that every time in the schedule fits an
// int64 count of microseconds with room to spare.
inline constexpr int64_t kMaxGenesisUnixS = 253'402'300'799;

// When epochs start and how long they last, in whole seconds since the Unix epoch (UTC, no leap
// seconds). Epoch numbers are u64 (the pairwise link key mixes them in as u64,
// docs/packet-format.md).
struct EpochSchedule {
  int64_t genesis_unix_s = 0;  // start of epoch 0
  int64_t length_s = 0;        // every epoch's length
  bool operator==(const EpochSchedule&) const = default;
};

// ok, or `invalid_argument` when genesis is outside 0..kMaxGenesisUnixS or the length is outside
// kMinEpochLengthS..kMaxEpochLengthS. The functions below return nullopt / `invalid_argument` for
// a schedule that fails this check.
Error validate(const EpochSchedule& schedule);

// The epoch that contains the wall time `wall_us` (µs since the Unix epoch); nullopt before
// genesis (there is no epoch then) or for an invalid schedule. Exact boundaries belong to the
// epoch they start.
std::optional<uint64_t> epoch_at(const EpochSchedule& schedule, int64_t wall_us);
// As epoch_at, for a time in whole seconds.
std::optional<uint64_t> epoch_at_s(const EpochSchedule& schedule, int64_t unix_s);

// First second of epoch `epoch` (inclusive), in seconds or in µs since the Unix epoch;
// `invalid_argument` if the schedule is invalid or the time does not fit an int64 count of µs.
Result<int64_t> start_s(const EpochSchedule& schedule, uint64_t epoch);
Result<int64_t> start_us(const EpochSchedule& schedule, uint64_t epoch);
// End of epoch `epoch` (exclusive: the start of epoch + 1); same errors as start_us.
Result<int64_t> end_s(const EpochSchedule& schedule, uint64_t epoch);
Result<int64_t> end_us(const EpochSchedule& schedule, uint64_t epoch);

}  // namespace veil::relay
