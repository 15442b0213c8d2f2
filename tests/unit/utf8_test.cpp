// UTF-8 well-formedness against the boundary cases of Markus Kuhn's UTF-8 decoder stress test
// and Unicode table 3-7.
#include <boost/test/unit_test.hpp>

#include <string>

#include "base/utf8.h"

namespace veil {

BOOST_AUTO_TEST_SUITE(utf8)

BOOST_AUTO_TEST_CASE(well_formed_sequences_pass) {
  BOOST_TEST(is_valid_utf8(""));
  BOOST_TEST(is_valid_utf8("+15551234567"));
  BOOST_TEST(is_valid_utf8("\xC2\x80"));                   // U+0080, first two-byte
  BOOST_TEST(is_valid_utf8("\xDF\xBF"));                   // U+07FF
  BOOST_TEST(is_valid_utf8("\xE0\xA0\x80"));               // U+0800, first three-byte
  BOOST_TEST(is_valid_utf8("\xED\x9F\xBF"));               // U+D7FF, just below the surrogates
  BOOST_TEST(is_valid_utf8("\xEE\x80\x80"));               // U+E000, just above them
  BOOST_TEST(is_valid_utf8("\xEF\xBF\xBD"));               // U+FFFD
  BOOST_TEST(is_valid_utf8("\xF0\x90\x80\x80"));           // U+10000, first four-byte
  BOOST_TEST(is_valid_utf8("\xF4\x8F\xBF\xBF"));           // U+10FFFF, the last code point
  BOOST_TEST(is_valid_utf8("\xCE\xBA\xE1\xBD\xB9\xCF\x83\xCE\xBC\xCE\xB5"));  // "κόσμε"
  BOOST_TEST(is_valid_utf8(std::string("a\0b", 3)));       // NUL is U+0000
}

BOOST_AUTO_TEST_CASE(ill_formed_sequences_fail) {
  BOOST_TEST(!is_valid_utf8("+1555\xFF\xFE"));             // the CLI case of the issue
  BOOST_TEST(!is_valid_utf8("\x80"));                      // a lone continuation byte
  BOOST_TEST(!is_valid_utf8("\xC0\xAF"));                  // overlong '/'
  BOOST_TEST(!is_valid_utf8("\xC1\xBF"));                  // overlong U+007F
  BOOST_TEST(!is_valid_utf8("\xE0\x80\xAF"));              // overlong three-byte
  BOOST_TEST(!is_valid_utf8("\xE0\x9F\xBF"));              // overlong U+07FF
  BOOST_TEST(!is_valid_utf8("\xF0\x80\x80\xAF"));          // overlong four-byte
  BOOST_TEST(!is_valid_utf8("\xF0\x8F\xBF\xBF"));          // overlong U+FFFF
  BOOST_TEST(!is_valid_utf8("\xED\xA0\x80"));              // U+D800, a surrogate
  BOOST_TEST(!is_valid_utf8("\xED\xBF\xBF"));              // U+DFFF
  BOOST_TEST(!is_valid_utf8("\xF4\x90\x80\x80"));          // U+110000, above the range
  BOOST_TEST(!is_valid_utf8("\xF5\x80\x80\x80"));
  BOOST_TEST(!is_valid_utf8("\xF8\x88\x80\x80\x80"));      // five-byte form
  BOOST_TEST(!is_valid_utf8("\xC2"));                      // truncated two-byte
  BOOST_TEST(!is_valid_utf8("\xE2\x82"));                  // truncated three-byte
  BOOST_TEST(!is_valid_utf8("\xF0\x9F\x98"));              // truncated four-byte
  BOOST_TEST(!is_valid_utf8("\xC2\x41"));                  // a lead byte then ASCII
  BOOST_TEST(!is_valid_utf8("\xFE"));
  BOOST_TEST(!is_valid_utf8("\xFF"));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace veil
