// VEIL_CHECK: the one fatal check, for API misuse and for calls that cannot fail after start.
//
// Errors are split by where they come from (docs/relay.md, "Errors"): a bad configuration or a
// failed bind at start is an exception and exit status 1; untrusted input is a counted drop or a
// reason code, never a crash; a condition that cannot happen once the process runs (a libuv call
// on a valid handle, a library refusing a key of the right length) is VEIL_CHECK: it prints
// file:line and what was expected to stderr and aborts, so the state is never silently wrong.
#pragma once

namespace veil::detail {
[[noreturn]] void check_failed(const char* file, int line, const char* what) noexcept;
}  // namespace veil::detail

#define VEIL_CHECK(cond, what)                                   \
  do {                                                           \
    if (!(cond)) ::veil::detail::check_failed(__FILE__, __LINE__, what); \
  } while (0)
