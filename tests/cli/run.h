// Runs the veil binary with arguments in a scratch directory and captures its exit status and output.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace veil::cli_test {

struct Outcome {
  int status = -1;  // exit status, or -1 when the process did not exit normally
  std::string out;  // stdout
  std::string err;  // stderr
};

// A fresh directory under the system temp dir, removed on destruction.
class Scratch {
 public:
  Scratch();
  ~Scratch();
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// Runs `veil args...` (the binary this build made) with `cwd` as working directory.
Outcome run_veil(const std::vector<std::string>& args, const std::filesystem::path& cwd);

}  // namespace veil::cli_test
