// Scratch directories for simulated deployments.
#include "proxy/sim/temp_dir.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <stdexcept>

namespace veil::sim {

TempDir::TempDir(const std::string& tag) {
  static std::atomic<int> seq{0};
  std::string name = (std::filesystem::temp_directory_path() /
                      ("veil-" + tag + "-" + std::to_string(::getpid()) + "-" +
                       std::to_string(seq++) + "-XXXXXX"))
                         .string();
  if (::mkdtemp(name.data()) == nullptr) throw std::runtime_error("mkdtemp failed for " + name);
  path_ = name;
}

TempDir::~TempDir() {
  if (std::getenv("VEIL_KEEP_TEMP") != nullptr) return;
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

}  // namespace veil::sim
