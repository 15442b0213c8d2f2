// Names and messages of the reason codes declared in error.h.
#include "base/error.h"

namespace veil {

std::string_view error_name(Error e) noexcept {
  switch (e) {
#define VEIL_ERROR_NAME(name, msg) \
  case Error::name:                \
    return #name;
    VEIL_ERRORS(VEIL_ERROR_NAME)
#undef VEIL_ERROR_NAME
  }
  return "internal";
}

std::string_view error_message(Error e) noexcept {
  switch (e) {
#define VEIL_ERROR_MSG(name, msg) \
  case Error::name:               \
    return msg;
    VEIL_ERRORS(VEIL_ERROR_MSG)
#undef VEIL_ERROR_MSG
  }
  return "internal error";
}

}  // namespace veil
