// The veil tool on hostile input: a sender certificate with a phone number that is not UTF-8 is
// refused at issue with the documented reason code, on one line; upper-case UUIDs are issued in
// canonical form.
#include <boost/test/unit_test.hpp>

#include <string>

#include "run.h"

namespace veil::cli_test {

BOOST_AUTO_TEST_SUITE(input_cli)

BOOST_AUTO_TEST_CASE(a_certificate_field_that_is_not_utf8_is_refused_with_its_reason_code) {
  Scratch s;
  const auto ok = [&](const std::vector<std::string>& args) {
    const Outcome o = run_veil(args, s.path());
    BOOST_TEST_REQUIRE(o.status == 0, args[0] << ": " << o.err);
    return o;
  };
  ok({"keygen", "root"});
  ok({"keygen", "server"});
  ok({"keygen", "alice"});
  ok({"cert-server", "--root", "root.priv", "--id", "1", "--key", "server.pub", "-o", "server.cert"});
  const std::vector<std::string> base = {"cert-sender", "--signer", "server.cert", "--signer-key", "server.priv",
                                         "--device", "1", "--identity", "alice.pub", "--expires", "4102444800000"};
  auto args = base;
  args.insert(args.end(), {"--uuid", "9d0652a3-dcc3-4d11-975f-74d61598733f", "--e164", "+1555\xFF\xFE", "-o", "bad.cert"});
  const Outcome bad = run_veil(args, s.path());
  BOOST_TEST(bad.status == 1);
  BOOST_TEST(bad.err.find("invalid_utf8") != std::string::npos, bad.err);
  BOOST_TEST(bad.err.find('\n') == bad.err.size() - 1, "more than one line: " << bad.err);
  BOOST_TEST(!std::filesystem::exists(s.path() / "bad.cert"));

  args = base;
  args.insert(args.end(), {"--uuid", "9D0652A3-DCC3-4D11-975F-74D61598733F", "--e164", "+15551234567", "-o", "alice.cert"});
  ok(args);
  const Outcome seen = ok({"inspect", "alice.cert"});
  BOOST_TEST(seen.out.find("9d0652a3-dcc3-4d11-975f-74d61598733f") != std::string::npos, seen.out);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace veil::cli_test
