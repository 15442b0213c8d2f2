// Fuzzes the relay config parser (build_config: TOML, the field table, every cross-key check) on
// arbitrary text: it returns a config or problems, never both, never throws; every problem is one
// non-empty printable line of UTF-8. Texts naming /dev or /proc are skipped: the config reads the
// files it names (a device could block or never end).
#include <string>
#include <variant>

#include "base/utf8.h"
#include "fuzz_world.h"
#include "proxy/relay/core/config.h"

using namespace veil;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 64 * 1024) return 0;
  const std::string text(reinterpret_cast<const char*>(data), size);
  if (text.find("/dev") != std::string::npos || text.find("/proc") != std::string::npos) return 0;
  const relay::ConfigResult r = relay::build_config(text, 1767225600);
  if (const auto* p = std::get_if<relay::ConfigProblems>(&r)) {
    fuzz::check(!p->problems.empty());
    for (const std::string& line : p->problems) {
      fuzz::check(!line.empty() && is_valid_utf8(line));
      for (const char ch : line) fuzz::check(static_cast<unsigned char>(ch) >= 0x20 && ch != 0x7f);
    }
  }
  return 0;
}
