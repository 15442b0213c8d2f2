// /proc/self/stat, /proc/self/fd and /proc/stat read into ProcessStats.
#include "proxy/relay/admin/process_stats.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace veil::relay {

namespace {

// The boot time (unix s) from /proc/stat's btime line, or 0.
double boot_time() {
  std::ifstream in("/proc/stat");
  std::string key;
  double value = 0;
  while (in >> key) {
    if (key == "btime") {
      in >> value;
      return value;
    }
    in.ignore(1 << 20, '\n');
  }
  return 0;
}

uint64_t count_fds() {
  DIR* d = ::opendir("/proc/self/fd");
  if (d == nullptr) return 0;
  uint64_t n = 0;
  while (const dirent* e = ::readdir(d)) {
    if (e->d_name[0] != '.') ++n;
  }
  ::closedir(d);
  return n > 0 ? n - 1 : 0;  // not the descriptor opendir itself holds
}

}  // namespace

std::optional<ProcessStats> read_process_stats() {
  std::ifstream in("/proc/self/stat");
  std::string line;
  if (!std::getline(in, line)) return std::nullopt;
  // The command name (field 2) is in parentheses and may hold spaces: fields follow the last ')'.
  const auto close = line.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream rest(line.substr(close + 2));
  std::vector<std::string> f;  // f[0] is field 3 (state)
  for (std::string x; rest >> x;) f.push_back(x);
  if (f.size() < 22) return std::nullopt;
  const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  const long page = ::sysconf(_SC_PAGESIZE);
  ProcessStats s;
  s.cpu_seconds = (std::stod(f[11]) + std::stod(f[12])) / ticks;  // utime, stime (fields 14, 15)
  s.start_time_seconds = boot_time() + std::stod(f[19]) / ticks;  // starttime (field 22)
  s.virtual_bytes = std::stoull(f[20]);                            // vsize (field 23)
  s.resident_bytes = std::stoull(f[21]) * static_cast<uint64_t>(page);  // rss (field 24)
  s.open_fds = count_fds();
  rlimit r{};
  if (::getrlimit(RLIMIT_NOFILE, &r) == 0) s.max_fds = r.rlim_cur;
  return s;
}

}  // namespace veil::relay
