// One-time initialisation of libsodium, libgcrypt and the libsignal-protocol-c context.
#pragma once

namespace veil::crypto {

// Idempotent and thread-safe; every public entry point that needs a library calls it.
void ensure_initialized();

}  // namespace veil::crypto
