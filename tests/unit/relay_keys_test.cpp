// The relay key directory: layout and modes, init twice, permission and ownership refusals, epoch
// keys made once and kept, listing and wiping old epochs.
#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "proxy/relay/core/relay_keys.h"
#include "test_support.h"

using namespace veil;
using namespace veil::relay;
namespace fs = std::filesystem;

namespace {

// A fresh scratch directory; the key directory is `path()/keys` (not yet created).
struct Scratch {
  fs::path root;
  Scratch() {
    std::string tmpl = (fs::temp_directory_path() / "veil-relay-keys-XXXXXX").string();
    BOOST_REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    root = tmpl;
  }
  ~Scratch() {
    std::error_code ec;
    fs::remove_all(root, ec);
  }
  std::string keys() const { return (root / "keys").string(); }
};

mode_t mode_of(const std::string& path) {
  struct stat st {};
  BOOST_REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(relay_keys)

BOOST_AUTO_TEST_CASE(init_writes_an_owner_only_layout) {
  Scratch s;
  SeededRng rng(31);
  std::string detail;
  BOOST_REQUIRE_MESSAGE(init_relay_keys(s.keys(), "mix-1", rng, &detail) == Error::ok, detail);
  BOOST_TEST(mode_of(s.keys()) == 0700u);
  BOOST_TEST(mode_of(s.keys() + "/epochs") == 0700u);
  for (const char* f : {"/format", "/name", "/identity.seed"}) {
    BOOST_TEST_CONTEXT(f) { BOOST_TEST(mode_of(s.keys() + f) == 0600u); }
  }
  BOOST_TEST(fs::file_size(s.keys() + "/identity.seed") == 32u);
  auto id = load_relay_identity(s.keys(), &detail);
  BOOST_REQUIRE_MESSAGE(id.ok(), detail);
  BOOST_TEST(id->name == "mix-1");
  auto again = load_relay_identity(s.keys());
  BOOST_TEST((again->key.public_key() == id->key.public_key()));
  BOOST_TEST(list_epoch_keys(s.keys())->empty());
}

BOOST_AUTO_TEST_CASE(init_twice_and_bad_names_are_refused) {
  Scratch s;
  SeededRng rng(32);
  BOOST_REQUIRE(init_relay_keys(s.keys(), "mix-1", rng) == Error::ok);
  const Bytes seed_before = [&] {
    std::ifstream in(s.keys() + "/identity.seed", std::ios::binary);
    return Bytes(std::istreambuf_iterator<char>(in), {});
  }();
  std::string detail;
  BOOST_TEST(init_relay_keys(s.keys(), "mix-1", rng, &detail) == Error::already_exists);
  BOOST_TEST(detail.find("not empty") != std::string::npos);
  std::ifstream in(s.keys() + "/identity.seed", std::ios::binary);
  BOOST_TEST((Bytes(std::istreambuf_iterator<char>(in), {}) == seed_before));
  BOOST_TEST(init_relay_keys((s.root / "other").string(), "", rng) == Error::malformed);
  BOOST_TEST(init_relay_keys((s.root / "other").string(), "a\nb", rng) == Error::malformed);
  BOOST_TEST(init_relay_keys((s.root / "no/such/parent").string(), "mix", rng, &detail) == Error::io_error);
  BOOST_TEST(detail.find("parent directory does not exist") != std::string::npos);
  // An existing empty owner-only directory is taken.
  BOOST_REQUIRE(::mkdir((s.root / "empty").c_str(), 0700) == 0);
  BOOST_TEST(init_relay_keys((s.root / "empty").string(), "mix-2", rng) == Error::ok);
}

BOOST_AUTO_TEST_CASE(group_readable_directory_is_refused) {
  Scratch s;
  SeededRng rng(33);
  BOOST_REQUIRE(init_relay_keys(s.keys(), "mix-1", rng) == Error::ok);
  BOOST_REQUIRE(::chmod(s.keys().c_str(), 0750) == 0);
  std::string detail;
  BOOST_TEST(load_relay_identity(s.keys(), &detail).error() == Error::insecure_permissions);
  BOOST_TEST(detail == "relay key directory " + s.keys() +
                           ": must be accessible by its owner only (chmod 700); it is 0750");
  BOOST_TEST(load_or_create_epoch_key(s.keys(), 1, rng).error() == Error::insecure_permissions);
  BOOST_TEST(!fs::exists(s.keys() + "/epochs/1.priv"));
  BOOST_REQUIRE(::chmod(s.keys().c_str(), 0700) == 0);
  BOOST_REQUIRE(::chmod((s.keys() + "/epochs").c_str(), 0701) == 0);
  BOOST_TEST(list_epoch_keys(s.keys(), &detail).error() == Error::insecure_permissions);
  BOOST_TEST(detail.find("/epochs: must be accessible by its owner only (chmod 700); it is 0701") !=
             std::string::npos);
  // A group-readable directory is refused by init as well.
  const std::string open_dir = (s.root / "open").string();
  BOOST_REQUIRE(::mkdir(open_dir.c_str(), 0700) == 0);
  BOOST_REQUIRE(::chmod(open_dir.c_str(), 0770) == 0);
  BOOST_TEST(init_relay_keys(open_dir, "mix-2", rng) == Error::insecure_permissions);
}

BOOST_AUTO_TEST_CASE(world_readable_key_files_are_refused) {
  Scratch s;
  SeededRng rng(34);
  BOOST_REQUIRE(init_relay_keys(s.keys(), "mix-1", rng) == Error::ok);
  BOOST_REQUIRE(load_or_create_epoch_key(s.keys(), 3, rng).ok());
  const std::string key = s.keys() + "/epochs/3.priv";
  BOOST_TEST(mode_of(key) == 0600u);
  BOOST_REQUIRE(::chmod(key.c_str(), 0644) == 0);
  std::string detail;
  BOOST_TEST(load_epoch_key(s.keys(), 3, &detail).error() == Error::insecure_permissions);
  BOOST_TEST(detail == key + ": must be readable by its owner only (chmod 600); it is 0644");
  BOOST_REQUIRE(::chmod(key.c_str(), 0620) == 0);  // group-writable
  BOOST_TEST(load_epoch_key(s.keys(), 3).error() == Error::insecure_permissions);
  const std::string seed = s.keys() + "/identity.seed";
  BOOST_REQUIRE(::chmod(seed.c_str(), 0604) == 0);
  BOOST_TEST(load_relay_identity(s.keys(), &detail).error() == Error::insecure_permissions);
  BOOST_TEST(detail.find("identity.seed: must be readable by its owner only") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(files_of_another_user_are_refused) {
  Scratch s;
  SeededRng rng(35);
  BOOST_REQUIRE(init_relay_keys(s.keys(), "mix-1", rng) == Error::ok);
  BOOST_REQUIRE(load_or_create_epoch_key(s.keys(), 0, rng).ok());
  // Only root can give a file away; elsewhere this case has nothing to check.
  if (::geteuid() != 0) return;
  const std::string key = s.keys() + "/epochs/0.priv";
  BOOST_REQUIRE(::chown(key.c_str(), 65534, 65534) == 0);
  std::string detail;
  BOOST_TEST(load_epoch_key(s.keys(), 0, &detail).error() == Error::insecure_permissions);
  BOOST_TEST(detail == key + ": must be owned by the user running the relay");
  BOOST_REQUIRE(::chown(s.keys().c_str(), 65534, 65534) == 0);
  BOOST_TEST(load_relay_identity(s.keys(), &detail).error() == Error::insecure_permissions);
  BOOST_TEST(detail.find("must be owned by the user running the relay") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(links_missing_keys_and_other_layouts_are_refused) {
  Scratch s;
  SeededRng rng(36);
  BOOST_REQUIRE(init_relay_keys(s.keys(), "mix-1", rng) == Error::ok);
  std::string detail;
  BOOST_TEST(load_epoch_key(s.keys(), 9, &detail).error() == Error::io_error);
  BOOST_REQUIRE(load_or_create_epoch_key(s.keys(), 1, rng).ok());
  BOOST_REQUIRE(::symlink((s.keys() + "/epochs/1.priv").c_str(), (s.keys() + "/epochs/2.priv").c_str()) == 0);
  BOOST_TEST(load_epoch_key(s.keys(), 2, &detail).error() == Error::io_error);
  BOOST_TEST(detail.find("symbolic link") != std::string::npos);
  {
    std::ofstream f(s.keys() + "/format", std::ios::trunc);
    f << "veil-relay-keys/2\n";
  }
  BOOST_TEST(load_relay_identity(s.keys()).error() == Error::unknown_version);
  BOOST_TEST(load_relay_identity((s.root / "absent").string()).error() == Error::io_error);
}

BOOST_AUTO_TEST_CASE(epoch_keys_are_made_once_listed_and_wiped) {
  Scratch s;
  SeededRng rng(37);
  BOOST_REQUIRE(init_relay_keys(s.keys(), "mix-1", rng) == Error::ok);
  std::string detail;
  BOOST_REQUIRE_MESSAGE(ensure_epoch_keys(s.keys(), 3, 7, rng, &detail) == Error::ok, detail);
  auto held = list_epoch_keys(s.keys());
  BOOST_TEST(*held == (std::vector<uint64_t>{3, 4, 5, 6}), boost::test_tools::per_element());
  auto k4 = load_epoch_key(s.keys(), 4);
  BOOST_REQUIRE(k4.ok());
  // Asking again returns the key on disk, never a new one.
  auto k4_again = load_or_create_epoch_key(s.keys(), 4, rng);
  BOOST_TEST((k4_again->pub == k4->pub));
  BOOST_TEST(ensure_epoch_keys(s.keys(), 3, 9, rng) == Error::ok);
  BOOST_TEST((load_epoch_key(s.keys(), 4)->pub == k4->pub));
  BOOST_TEST(list_epoch_keys(s.keys())->size() == 6u);
  BOOST_TEST(ensure_epoch_keys(s.keys(), 9, 3, rng) == Error::invalid_argument);
  BOOST_TEST(ensure_epoch_keys(s.keys(), 0, kMaxEpochKeysPerCall + 1, rng) == Error::invalid_argument);
  // Names that are not <N>.priv are ignored.
  std::ofstream(s.keys() + "/epochs/notes.txt") << "x";
  std::ofstream(s.keys() + "/epochs/05.priv") << "x";
  BOOST_TEST(list_epoch_keys(s.keys())->size() == 6u);
  // Wipe epochs before 5: 3 and 4 go, 5..8 stay.
  auto wiped = wipe_epoch_keys_before(s.keys(), 5, &detail);
  BOOST_REQUIRE_MESSAGE(wiped.ok(), detail);
  BOOST_TEST(*wiped == 2u);
  BOOST_TEST(*list_epoch_keys(s.keys()) == (std::vector<uint64_t>{5, 6, 7, 8}),
             boost::test_tools::per_element());
  BOOST_TEST(!fs::exists(s.keys() + "/epochs/3.priv"));
  BOOST_TEST(load_epoch_key(s.keys(), 4).error() == Error::io_error);
  BOOST_TEST(load_epoch_key(s.keys(), 5).ok());
  BOOST_TEST(*wipe_epoch_keys_before(s.keys(), 5) == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
