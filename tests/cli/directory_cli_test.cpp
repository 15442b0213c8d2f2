// veil relay-keys and veil directory end to end: three relays' keys and descriptors, a directory
// signed by authority A, counter-signed by B, verified 2 of 3, refused at 3 of 3 and when expired.
#include <boost/test/unit_test.hpp>

#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>

#include "proxy/relay/core/directory.h"
#include "run.h"

using namespace veil;
using namespace veil::cli_test;

namespace {

constexpr const char* kGenesis = "1700000000";
constexpr const char* kLength = "3600";
constexpr const char* kNow = "1700000100";

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Runs veil and requires exit status 0.
Outcome ok(const Scratch& s, const std::vector<std::string>& args) {
  Outcome o = run_veil(args, s.path());
  BOOST_REQUIRE_MESSAGE(o.status == 0, "veil " + args[0] + " " + args[1] + " failed: " + o.err);
  return o;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(directory_cli)

BOOST_AUTO_TEST_CASE(three_relays_signed_two_of_three) {
  Scratch s;
  const std::vector<std::pair<std::string, std::vector<std::string>>> relays = {
      {"mix-1", {"--address", "127.0.0.1:7001"}},
      {"mix-2", {"--address", "127.0.0.1:7002"}},
      {"prov-a", {"--address", "127.0.0.1:7003", "--provider", "alice.example"}},
  };
  std::vector<std::string> sign = {"directory", "sign", "--key", "A.priv"};
  for (const auto& [name, extra] : relays) {
    const Outcome init = ok(s, {"relay-keys", "init", "keys-" + name, "--name", name});
    BOOST_TEST(init.out.find("relay " + name + ": identity key ") == 0u);
    struct stat st {};
    BOOST_REQUIRE(::stat((s / ("keys-" + name)).c_str(), &st) == 0);
    BOOST_TEST((st.st_mode & 0777) == 0700u);
    std::vector<std::string> args = {"relay-keys", "descriptor", "keys-" + name, "--genesis", kGenesis,
                                     "--epoch-length", kLength, "--epochs", "24", "--now", kNow,
                                     "-o", name + ".descriptor"};
    args.insert(args.end(), extra.begin(), extra.end());
    ok(s, args);
    auto d = relay::verify_descriptor(read_text(s / (name + ".descriptor")));
    BOOST_REQUIRE(d.ok());
    BOOST_TEST(d->name == name);
    BOOST_TEST(d->epoch_keys.size() == 24u);
    sign.push_back(name + ".descriptor");
  }
  // A second descriptor reuses the epoch keys made by the first.
  const std::string first = read_text(s / "mix-1.descriptor");
  ok(s, {"relay-keys", "descriptor", "keys-mix-1", "--address", "127.0.0.1:7001", "--genesis", kGenesis,
         "--epoch-length", kLength, "--epochs", "24", "--now", kNow, "-o", "again.descriptor"});
  BOOST_TEST((relay::verify_descriptor(first)->epoch_keys ==
              relay::verify_descriptor(read_text(s / "again.descriptor"))->epoch_keys));

  for (const char* a : {"A", "B", "C"}) {
    ok(s, {"directory", "keygen", "-o", std::string(a) + ".priv", "--public", std::string(a) + ".pub"});
    struct stat st {};
    BOOST_REQUIRE(::stat((s / (std::string(a) + ".priv")).c_str(), &st) == 0);
    BOOST_TEST((st.st_mode & 0777) == 0600u);
    BOOST_TEST(read_text(s / (std::string(a) + ".pub")).rfind("veil-authority-key/1 ", 0) == 0u);
  }
  sign.insert(sign.end(), {"--network", "testnet", "--serial", "1", "--genesis", kGenesis,
                           "--epoch-length", kLength, "--valid-for", "36000", "--now", kNow, "-o",
                           "directory.json"});
  ok(s, sign);
  const std::string by_a = read_text(s / "directory.json");
  ok(s, {"directory", "sign", "--key", "B.priv", "--add-to", "directory.json", "-o", "directory.json"});
  const std::string by_ab = read_text(s / "directory.json");
  BOOST_TEST(nlohmann::json::parse(by_ab)["body"].get<std::string>() ==
             nlohmann::json::parse(by_a)["body"].get<std::string>());

  const std::vector<std::string> verify = {"directory", "verify", "directory.json",
                                           "--authority", "A.pub", "--authority", "B.pub",
                                           "--authority", "C.pub"};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = verify;
    args.insert(args.end(), extra.begin(), extra.end());
    return run_veil(args, s.path());
  };
  const Outcome two = with({"--threshold", "2", "--now", "1700000200"});
  BOOST_TEST(two.status == 0);
  BOOST_TEST(two.err.empty());
  BOOST_TEST(two.out.find("network testnet, serial 1") != std::string::npos);
  BOOST_TEST(two.out.find("signatures: 2 counted of 2 in the file; threshold 2 of 3") != std::string::npos);
  BOOST_TEST(two.out.find("relays: 3") != std::string::npos);
  BOOST_TEST(two.out.find("prov-a  provider alice.example  127.0.0.1:7003") != std::string::npos);
  BOOST_TEST(two.out.find("mix-1  mix  127.0.0.1:7001") != std::string::npos);

  const Outcome three = with({"--threshold", "3", "--now", "1700000200"});
  BOOST_TEST(three.status != 0);
  BOOST_TEST(three.out.empty());
  BOOST_TEST(three.err.rfind("veil: directory: insufficient_signatures: ", 0) == 0u);
  BOOST_TEST(std::count(three.err.begin(), three.err.end(), '\n') == 1);

  const Outcome late = with({"--threshold", "2", "--now", "1700036100"});
  BOOST_TEST(late.status != 0);
  BOOST_TEST(late.err.rfind("veil: directory: expired: ", 0) == 0u);

  // Adding B's signature again is refused; the file keeps two.
  const Outcome again = run_veil(
      {"directory", "sign", "--key", "B.priv", "--add-to", "directory.json", "-o", "twice.json"}, s.path());
  BOOST_TEST(again.status != 0);
  BOOST_TEST(again.err.rfind("veil: directory: duplicate_entry: ", 0) == 0u);

  // init over existing keys is refused and changes nothing.
  const Outcome reinit = run_veil({"relay-keys", "init", "keys-mix-1", "--name", "mix-1"}, s.path());
  BOOST_TEST(reinit.status != 0);
  BOOST_TEST(reinit.err.rfind("veil: relay-keys: already_exists: ", 0) == 0u);
}

BOOST_AUTO_TEST_CASE(refusals_are_one_line_with_a_reason_code) {
  Scratch s;
  ok(s, {"relay-keys", "init", "keys", "--name", "mix-1"});
  ::chmod((s / "keys").c_str(), 0750);
  const Outcome open = run_veil({"relay-keys", "descriptor", "keys", "--address", "127.0.0.1:7001",
                                 "--genesis", kGenesis, "--epoch-length", kLength},
                                s.path());
  BOOST_TEST(open.status != 0);
  BOOST_TEST(open.err == std::string("veil: relay-keys: insecure_permissions: relay key directory keys") +
                             ": must be accessible by its owner only (chmod 700); it is 0750\n");
  ::chmod((s / "keys").c_str(), 0700);
  const Outcome bad_len = run_veil({"relay-keys", "descriptor", "keys", "--address", "127.0.0.1:7001",
                                    "--genesis", kGenesis, "--epoch-length", "10"},
                                   s.path());
  BOOST_TEST(bad_len.err.rfind("veil: --genesis/--epoch-length: invalid_argument: ", 0) == 0u);
  const Outcome bad_addr = run_veil({"relay-keys", "descriptor", "keys", "--address", "relay.example:7001",
                                     "--genesis", kGenesis, "--epoch-length", kLength},
                                    s.path());
  BOOST_TEST(bad_addr.err.rfind("veil: descriptor: malformed: address ", 0) == 0u);
  std::ofstream(s / "garbage.json") << "{not json";
  ok(s, {"directory", "keygen", "-o", "A.priv", "--public", "A.pub"});
  const Outcome garbage = run_veil(
      {"directory", "verify", "garbage.json", "--authority", "A.pub", "--threshold", "1"}, s.path());
  BOOST_TEST(garbage.err.rfind("veil: directory: malformed: ", 0) == 0u);
  // A private key where a public key belongs.
  const Outcome swapped = run_veil(
      {"directory", "verify", "garbage.json", "--authority", "A.priv", "--threshold", "1"}, s.path());
  BOOST_TEST(swapped.err.rfind("veil: A.priv: invalid_key: ", 0) == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
