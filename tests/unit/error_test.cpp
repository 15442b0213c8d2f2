// The Error vocabulary: every code has a non-empty, distinct name and message; Result basics.
#include <boost/test/unit_test.hpp>

#include <set>
#include <string>
#include <vector>

#include "base/error.h"
#include "test_support.h"

using namespace veil;

namespace {
struct Entry {
  Error code;
  std::string_view name;
  std::string_view message;
};
const std::vector<Entry> kAll = {
#define VEIL_TEST_ENTRY(name, msg) {Error::name, #name, msg},
    VEIL_ERRORS(VEIL_TEST_ENTRY)
#undef VEIL_TEST_ENTRY
};
}  // namespace

BOOST_AUTO_TEST_SUITE(error)

BOOST_AUTO_TEST_CASE(every_error_has_its_own_name_and_message) {
  std::set<std::string_view> names, messages;
  for (const Entry& e : kAll) {
    BOOST_TEST_CONTEXT("code " << static_cast<int>(e.code)) {
      BOOST_TEST(error_name(e.code) == e.name);
      BOOST_TEST(error_message(e.code) == e.message);
      BOOST_TEST(!error_name(e.code).empty());
      BOOST_TEST(!error_message(e.code).empty());
      BOOST_TEST(names.insert(error_name(e.code)).second);
      BOOST_TEST(messages.insert(error_message(e.code)).second);
    }
  }
}

// The names travel as SubmitAnswer.reason and as metric keys: changing one is a wire change, so the
// full list is pinned here, in declaration order.
BOOST_AUTO_TEST_CASE(names_are_pinned) {
  const std::vector<std::string_view> expected = {
      "ok", "malformed", "truncated", "unknown_version", "invalid_key", "invalid_key_agreement",
      "decryption_failed", "untrusted_certificate", "unknown_server_certificate", "self_send",
      "invalid_device_id", "invalid_registration_id", "duplicate_recipient", "invalid_service_id",
      "invalid_argument", "too_large", "unknown_destination", "access_denied", "unknown_recipient",
      "busy", "unavailable", "draining", "epoch_expired", "internal", "bad_signature", "insufficient_signatures",
      "not_yet_valid", "expired", "duplicate_entry", "missing_epoch_keys", "insecure_permissions",
      "already_exists", "io_error", "invalid_utf8"};
  std::vector<std::string_view> names;
  for (const Entry& e : kAll) names.push_back(e.name);
  BOOST_TEST(names == expected, boost::test_tools::per_element());
  BOOST_TEST(error_message(Error::unknown_recipient) == "recipient is not served by this relay");
}

BOOST_AUTO_TEST_CASE(codes_are_dense_from_zero) {
  BOOST_TEST(kAll.size() == kErrorCount);  // the relay counts rejections per code in an array this size
  for (std::size_t i = 0; i < kAll.size(); ++i) BOOST_TEST(static_cast<std::size_t>(kAll[i].code) == i);
  BOOST_TEST(error_name(Error::ok) == "ok");
}

BOOST_AUTO_TEST_CASE(result_holds_value_or_error) {
  const Result<int> good = 5;
  BOOST_TEST(good.ok());
  BOOST_TEST(*good == 5);
  BOOST_TEST(good.error() == Error::ok);
  const Result<int> bad = Error::malformed;
  BOOST_TEST(!bad.ok());
  BOOST_TEST(!static_cast<bool>(bad));
  BOOST_TEST(bad.error() == Error::malformed);
}

BOOST_AUTO_TEST_SUITE_END()
