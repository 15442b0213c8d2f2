// A private scratch directory for one simulated deployment, removed when it goes out of scope.
#pragma once

#include <filesystem>
#include <string>

namespace veil::sim {

// mkdtemp under the system temp dir, named veil-<tag>-<pid>-<n>-XXXXXX; removed on destruction
// unless the environment variable VEIL_KEEP_TEMP is set (for post-mortems).
class TempDir {
 public:
  explicit TempDir(const std::string& tag);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace veil::sim
