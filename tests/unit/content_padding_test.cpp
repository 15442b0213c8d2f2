// Signal clients' content padding: 79/159-byte boundaries (block 80), block 160, and unpadding rules.
#include <boost/test/unit_test.hpp>

#include "crypto/content_padding.h"
#include "test_support.h"

using namespace veil;
using namespace veil::crypto;

BOOST_AUTO_TEST_SUITE(content_padding)

BOOST_AUTO_TEST_CASE(block_80_boundaries) {
  for (std::size_t n = 0; n <= 78; ++n) BOOST_TEST(pad_content(Bytes(n, 1)).size() == 79u, n);
  for (std::size_t n = 79; n <= 158; ++n) BOOST_TEST(pad_content(Bytes(n, 1)).size() == 159u, n);
  BOOST_TEST(pad_content(Bytes(159, 1)).size() == 239u);
}

BOOST_AUTO_TEST_CASE(block_160_boundaries) {
  for (std::size_t n : {0, 158}) BOOST_TEST(pad_content(Bytes(n, 1), 160).size() == 159u, n);
  for (std::size_t n : {159, 318}) BOOST_TEST(pad_content(Bytes(n, 1), 160).size() == 319u, n);
}

BOOST_AUTO_TEST_CASE(padding_is_marker_then_zeros) {
  const Bytes content = {0x80, 0x00, 0x07};
  const Bytes padded = pad_content(content);
  BOOST_TEST_REQUIRE(padded.size() == 79u);
  BOOST_TEST(std::equal(content.begin(), content.end(), padded.begin()));
  BOOST_TEST(padded[3] == 0x80);
  BOOST_TEST(std::all_of(padded.begin() + 4, padded.end(), [](uint8_t b) { return b == 0; }));
}

BOOST_AUTO_TEST_CASE(unpad_inverts_pad) {
  for (std::size_t n = 0; n <= 400; ++n) {
    Bytes content(n);
    for (std::size_t i = 0; i < n; ++i) content[i] = static_cast<uint8_t>(i * 7 % 3 == 0 ? 0 : 0x80);
    const Bytes padded = pad_content(content);
    auto got = unpad_content(padded);
    BOOST_TEST_REQUIRE(got.ok(), n);
    BOOST_TEST((Bytes(got->begin(), got->end()) == content), n);
  }
}

BOOST_AUTO_TEST_CASE(unpad_accepts_marker_without_zeros) {
  const Bytes b = {1, 2, 0x80};
  auto got = unpad_content(b);
  BOOST_TEST_REQUIRE(got.ok());
  BOOST_TEST(got->size() == 2u);
}

BOOST_AUTO_TEST_CASE(unpad_rejects_missing_marker) {
  BOOST_TEST(unpad_content({}).error() == Error::malformed);
  BOOST_TEST(unpad_content(Bytes(79, 0)).error() == Error::malformed);
  BOOST_TEST(unpad_content(Bytes{1, 2, 3}).error() == Error::malformed);
  BOOST_TEST(unpad_content(Bytes{0x80, 0x7F, 0, 0}).error() == Error::malformed);
  BOOST_TEST(unpad_content(Bytes{0x80, 0, 0x01}).error() == Error::malformed);
}

BOOST_AUTO_TEST_SUITE_END()
