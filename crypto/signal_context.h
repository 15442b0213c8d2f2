// Internal: the shared libsignal-protocol-c context and the per-thread RNG its provider draws from.
#pragma once

#include "base/rng.h"

struct signal_context;

namespace veil::crypto {

// The process-wide context; initialised on first use.
signal_context* signal_ctx();

// Routes the context's random callback to `rng` on this thread for the scope's lifetime.
class ScopedRng {
 public:
  explicit ScopedRng(Rng& rng);
  ~ScopedRng();
  ScopedRng(const ScopedRng&) = delete;
  ScopedRng& operator=(const ScopedRng&) = delete;

 private:
  Rng* previous_;
};

}  // namespace veil::crypto
