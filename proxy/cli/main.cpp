// Entry point of the `veil` command-line tool.
#include <iostream>

#include "proxy/cli/commands.h"
#include "proxy/cli/files.h"

int main(int argc, char** argv) {
  CLI::App app{"veil: Signal-compatible sealed sender tools"};
  app.require_subcommand(1);
  veil::cli::register_commands(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const veil::cli::CliError& e) {
    std::cerr << "veil: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    // Not expected (a CliError names its reason code): still one line, with a reason code.
    std::cerr << "veil: internal: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
