// XEd25519 sign/verify delegated to libsignal-protocol-c's curve_calculate/verify_signature.
#include "crypto/xeddsa.h"

#include <cstring>

#include "base/check.h"
#include "crypto/signal_context.h"

extern "C" {
#include <curve.h>
#include <signal_protocol.h>
}

namespace veil::crypto {

Signature xeddsa_sign(const PrivateKey& key, ByteView message, Rng& rng) {
  signal_context* ctx = signal_ctx();
  ScopedRng scoped(rng);
  ec_private_key* priv = nullptr;
  VEIL_CHECK(curve_decode_private_point(&priv, key.raw().data(), kKeySize, ctx) == 0,
             "libsignal-protocol-c refused a 32-byte private key");
  signal_buffer* sig = nullptr;
  const int rc = curve_calculate_signature(ctx, &sig, priv, message.data(), message.size());
  signal_type_unref(reinterpret_cast<signal_type_base*>(priv));
  VEIL_CHECK(rc == 0 && sig != nullptr && signal_buffer_len(sig) == kSignatureSize,
             "libsignal-protocol-c failed to produce a 64-byte XEdDSA signature");
  Signature out{};
  std::memcpy(out.data(), signal_buffer_data(sig), kSignatureSize);
  signal_buffer_free(sig);
  return out;
}

bool xeddsa_verify(const PublicKey& key, ByteView message, ByteView signature) {
  if (signature.size() != kSignatureSize) return false;
  signal_context* ctx = signal_ctx();
  const auto serialized = key.serialize();
  ec_public_key* pub = nullptr;
  if (curve_decode_point(&pub, serialized.data(), serialized.size(), ctx) != 0) return false;
  const int rc = curve_verify_signature(pub, message.data(), message.size(), signature.data(),
                                        signature.size());
  signal_type_unref(reinterpret_cast<signal_type_base*>(pub));
  return rc == 1;
}

}  // namespace veil::crypto
