// curl and promtool driven as child processes (admin_client.h).
#include "proxy/sim/admin_client.h"

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "proxy/sim/temp_dir.h"

namespace veil::sim {

namespace {

// Runs argv, returns its stdout (stderr joined) and exit status; no shell.
std::pair<std::string, int> run(const std::vector<std::string>& argv) {
  int out[2];
  if (::pipe(out) != 0) throw std::runtime_error("pipe");
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork");
  if (pid == 0) {
    ::dup2(out[1], 1);
    ::dup2(out[1], 2);
    ::close(out[0]);
    ::close(out[1]);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  ::close(out[1]);
  std::string text;
  std::array<char, 65536> buf;
  for (ssize_t n; (n = ::read(out[0], buf.data(), buf.size())) > 0;) text.append(buf.data(), static_cast<std::size_t>(n));
  ::close(out[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return {text, WIFEXITED(status) ? WEXITSTATUS(status) : -1};
}

}  // namespace

HttpReply http_get(uint16_t port, const std::string& path, int timeout_ms, const std::string& unix_socket) {
  std::vector<std::string> argv = {"curl", "-s", "--max-time", std::to_string(timeout_ms / 1000.0),
                                   "-w", "\n%{http_code}"};
  if (!unix_socket.empty()) {
    argv.push_back("--unix-socket");
    argv.push_back(unix_socket);
    argv.push_back("http://localhost" + path);
  } else {
    argv.push_back("http://127.0.0.1:" + std::to_string(port) + path);
  }
  auto [text, status] = run(argv);
  HttpReply r;
  const auto nl = text.rfind('\n');
  if (nl == std::string::npos) return r;
  r.status = std::atoi(text.c_str() + nl + 1);
  r.body = text.substr(0, nl);
  return r;
}

std::string promtool_problems(const std::string& exposition) {
  TempDir dir("veil-promtool");
  const auto file = dir.path() / "metrics.txt";
  std::ofstream(file) << exposition;
  // promtool check metrics reads the exposition on stdin.
  auto [text, status] = run({"sh", "-c", "promtool check metrics < '" + file.string() + "'"});
  if (status == 0 && text.empty()) return "";
  return text.empty() ? "promtool exited " + std::to_string(status) : text;
}

std::optional<double> sample_value(const std::string& exposition, const std::string& series) {
  std::istringstream in(exposition);
  for (std::string line; std::getline(in, line);) {
    if (line.size() > series.size() && line.compare(0, series.size(), series) == 0 && line[series.size()] == ' ') {
      return std::stod(line.substr(series.size() + 1));
    }
  }
  return std::nullopt;
}

}  // namespace veil::sim
