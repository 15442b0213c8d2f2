// The failure path of VEIL_CHECK: one line on stderr, then abort.
#include "base/check.h"

#include <cstdio>
#include <cstdlib>

namespace veil::detail {

void check_failed(const char* file, int line, const char* what) noexcept {
  std::fprintf(stderr, "veil: fatal: %s:%d: %s\n", file, line, what);
  std::fflush(stderr);
  std::abort();
}

}  // namespace veil::detail
