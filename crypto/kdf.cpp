// RFC 5869 extract-then-expand over libgcrypt's HMAC-SHA256 (which uses the CPU's SHA extensions).
#include "crypto/kdf.h"

#include <gcrypt.h>

#include <algorithm>
#include <array>

#include "base/check.h"
#include "crypto/init.h"

namespace veil::crypto {
namespace {

gcry_buffer_t piece(ByteView b) {
  gcry_buffer_t g{};
  g.data = const_cast<uint8_t*>(b.data());  // libgcrypt only reads it
  g.len = b.size();
  return g;
}

// HMAC-SHA256 keyed with pieces[0] over the concatenation of pieces[1..n).
void hmac_pieces(const gcry_buffer_t* pieces, int n, uint8_t* out32) {
  VEIL_CHECK(gcry_md_hash_buffers(GCRY_MD_SHA256, GCRY_MD_FLAG_HMAC, out32,
                                  const_cast<gcry_buffer_t*>(pieces), n) == 0,
             "libgcrypt refused HMAC-SHA256 (broken libgcrypt)");
}

}  // namespace

void hmac_sha256(ByteView key, ByteView data, std::span<uint8_t, 32> out) {
  ensure_initialized();
  const gcry_buffer_t pieces[2] = {piece(key), piece(data)};
  hmac_pieces(pieces, 2, out.data());
}

void hkdf_sha256(std::initializer_list<ByteView> ikm_parts, ByteView salt, ByteView info,
                 std::span<uint8_t> out) {
  VEIL_CHECK(!out.empty() && out.size() <= kHkdfMaxOutput,
             "hkdf_sha256: output length must be 1..255*32 bytes (misuse)");
  VEIL_CHECK(ikm_parts.size() <= kHkdfMaxIkmParts, "hkdf_sha256: too many input key parts (misuse)");
  ensure_initialized();
  static const uint8_t kZeroSalt[32] = {};
  if (salt.empty()) salt = ByteView(kZeroSalt, sizeof kZeroSalt);

  std::array<gcry_buffer_t, 1 + kHkdfMaxIkmParts> pieces{};
  int n = 0;
  pieces[n++] = piece(salt);
  for (ByteView part : ikm_parts) pieces[n++] = piece(part);
  Wiped<32> prk;
  hmac_pieces(pieces.data(), n, prk.data());

  // T(i) = HMAC(PRK, T(i-1) || info || i), T(0) empty.
  Wiped<32> t;
  std::size_t done = 0;
  for (uint8_t counter = 1; done < out.size(); ++counter) {
    const gcry_buffer_t expand[4] = {piece(prk), piece(ByteView(t.data(), counter == 1 ? 0 : 32)),
                                     piece(info), piece(ByteView(&counter, 1))};
    hmac_pieces(expand, 4, t.data());
    const std::size_t take = std::min<std::size_t>(32, out.size() - done);
    std::copy_n(t.data(), take, out.data() + done);
    done += take;
  }
}

}  // namespace veil::crypto
