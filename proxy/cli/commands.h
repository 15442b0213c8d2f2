// The `veil` subcommands: keys, certificates, seal/open (v1 and v2), fan-out and inspection, relay
// key directories and the signed relay directory.
#pragma once

#include <CLI/CLI.hpp>

namespace veil::cli {

// Registers every subcommand on `app`.
void register_commands(CLI::App& app);
// Registers `relay-keys` and `directory` (directory_commands.cpp; register_commands calls it).
void register_directory_commands(CLI::App& app);

}  // namespace veil::cli
