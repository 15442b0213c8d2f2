// The `veil` subcommands: keys, certificates, seal/open (v1 and v2), fan-out and inspection.
#pragma once

#include <CLI/CLI.hpp>

namespace veil::cli {

// Registers every subcommand on `app`.
void register_commands(CLI::App& app);

}  // namespace veil::cli
