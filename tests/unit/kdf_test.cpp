// HKDF-SHA256 against RFC 5869 test cases 1-3 and HMAC-SHA256 against RFC 4231 test case 2.
#include <boost/test/unit_test.hpp>

#include "crypto/kdf.h"
#include "test_support.h"

using namespace veil;
using namespace veil::crypto;
using veil::test::hexs;
using veil::test::unhex;

namespace {

Bytes counting(uint8_t first, std::size_t n) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(first + i);
  return b;
}

std::string hkdf_hex(ByteView ikm, ByteView salt, ByteView info, std::size_t len) {
  Bytes out(len);
  hkdf_sha256(ikm, salt, info, out);
  return hexs(out);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(kdf)

BOOST_AUTO_TEST_CASE(hkdf_rfc5869_case1_basic) {
  BOOST_TEST(hkdf_hex(Bytes(22, 0x0b), unhex("000102030405060708090a0b0c"),
                      unhex("f0f1f2f3f4f5f6f7f8f9"), 42) ==
             "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
}

BOOST_AUTO_TEST_CASE(hkdf_rfc5869_case2_long_inputs) {
  BOOST_TEST(hkdf_hex(counting(0x00, 80), counting(0x60, 80), counting(0xb0, 80), 82) ==
             "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c"
             "59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71"
             "cc30c58179ec3e87c14c01d5c1f3434f1d87");
}

BOOST_AUTO_TEST_CASE(hkdf_rfc5869_case3_empty_salt_and_info) {
  BOOST_TEST(hkdf_hex(Bytes(22, 0x0b), {}, {}, 42) ==
             "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");
}

BOOST_AUTO_TEST_CASE(hkdf_empty_salt_equals_32_zero_bytes) {
  const Bytes ikm = counting(1, 40);
  BOOST_TEST(hkdf_hex(ikm, {}, as_bytes("info"), 64) ==
             hkdf_hex(ikm, Bytes(32, 0), as_bytes("info"), 64));
}

BOOST_AUTO_TEST_CASE(hkdf_ikm_parts_equal_their_concatenation) {
  const Bytes a = counting(0x10, 32), b = counting(0x50, 33), c = counting(0x90, 7);
  Bytes joined = a;
  append(joined, b);
  append(joined, c);
  Bytes split(96);
  hkdf_sha256({ByteView(a), ByteView(b), ByteView(c)}, as_bytes("salt"), as_bytes("x"), split);
  BOOST_TEST(hexs(split) == hkdf_hex(joined, as_bytes("salt"), as_bytes("x"), 96));
}

BOOST_AUTO_TEST_CASE(hkdf_shorter_output_is_a_prefix) {
  const Bytes ikm = counting(3, 32);
  const std::string long_okm = hkdf_hex(ikm, {}, as_bytes("label"), 96);
  BOOST_TEST(hkdf_hex(ikm, {}, as_bytes("label"), 33) == long_okm.substr(0, 66));
}

BOOST_AUTO_TEST_CASE(hmac_sha256_rfc4231_case2) {
  std::array<uint8_t, 32> mac{};
  hmac_sha256(as_bytes("Jefe"), as_bytes("what do ya want for nothing?"), mac);
  BOOST_TEST(hexs(mac) == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

BOOST_AUTO_TEST_SUITE_END()
