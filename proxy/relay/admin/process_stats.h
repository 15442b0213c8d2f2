// The standard process metrics (process_cpu_seconds_total, process_resident_memory_bytes, ...) of
// this process, read from Linux's /proc as the Prometheus client libraries do.
#pragma once

#include <optional>

#include "proxy/relay/core/exposition.h"

namespace veil::relay {

// This process's CPU time, memory, descriptors and start time; nullopt where /proc cannot be read.
std::optional<ProcessStats> read_process_stats();

}  // namespace veil::relay
