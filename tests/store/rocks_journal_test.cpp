// RocksJournal: every entry kind across a reopen, forgetting, group commit and its window, commit
// order, reused group buffers, the refusals at open, failed writes retried until they succeed, and
// malformed entries.
#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <rocksdb/db.h>

#include "base/clock.h"
#include "base/executor.h"
#include "failing_file_system.h"
#include "proxy/relay/store/rocks_journal.h"

using namespace veil;
using namespace veil::relay;
namespace fs = std::filesystem;

namespace {

crypto::RelayId hop(uint8_t n) {
  crypto::RelayId id{};
  id.fill(n);
  return id;
}

ReplayTag tag(uint8_t n) {
  ReplayTag t{};
  t.fill(n);
  t[0] = 0xff;  // tags are random bytes: make sure high bytes sort as such
  return t;
}

Bytes bytes(std::size_t size, uint8_t seed) {
  Bytes b(size);
  for (std::size_t i = 0; i < size; ++i) b[i] = static_cast<uint8_t>(seed + i * 7);
  return b;
}

// What a recovery found, in the order it was found.
struct Found {
  std::vector<uint64_t> packet_order;
  std::map<uint64_t, RecoveredPacket> packets;
  std::vector<uint64_t> delivery_order;
  std::map<uint64_t, Bytes> deliveries;
  std::vector<std::pair<uint64_t, ReplayTag>> tags;
  JournalCheckpoint checkpoint;
};

// A fresh scratch directory (removed at the end) with a manual clock and executor; the journal
// lives in <scratch>/journal, which open() creates.
struct World {
  fs::path scratch;
  std::string dir;
  ManualClock clock;
  ManualExecutor executor;
  std::shared_ptr<FailingFileSystem> file_system = std::make_shared<FailingFileSystem>();

  World() {
    std::string tmpl = (fs::temp_directory_path() / "veil-rocks-journal-test-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp");
    scratch = tmpl;
    dir = (scratch / "journal").string();
  }
  ~World() {
    std::error_code ec;
    fs::remove_all(scratch, ec);
  }
  World(const World&) = delete;
  World& operator=(const World&) = delete;

  RocksJournal::Options options(Micros window = 0) const {
    RocksJournal::Options o;
    o.dir = dir;
    o.commit_window = window;
    o.file_system = file_system;
    return o;
  }
  std::unique_ptr<RocksJournal> open(Micros window = 0) {
    return RocksJournal::open(options(window), clock, executor);
  }
  // The refusal open() throws, or "" if it opened.
  std::string refusal(const RocksJournal::Options& o) {
    try {
      RocksJournal::open(o, clock, executor);
    } catch (const std::runtime_error& e) {
      return e.what();
    }
    return "";
  }
  // Reopens the journal in `dir` (the default file system) and recovers everything.
  Found recover() {
    RocksJournal::Options o = options();
    o.file_system = nullptr;
    auto j = RocksJournal::open(o, clock, executor);
    return recover(*j);
  }
  static Found recover(RocksJournal& j) {
    Found f;
    Journal::RecoverFns fns;
    fns.packet = [&](RecoveredPacket&& p) {
      f.packet_order.push_back(p.item);
      f.packets[p.item] = std::move(p);
    };
    fns.delivery = [&](uint64_t id, Bytes d) {
      f.delivery_order.push_back(id);
      f.deliveries[id] = std::move(d);
    };
    fns.replay_tag = [&](uint64_t epoch, const ReplayTag& t) { f.tags.emplace_back(epoch, t); };
    f.checkpoint = j.recover(fns);
    return f;
  }
};

// Commits and runs the executor; true if the commit's callback ran.
bool commit_now(RocksJournal& j, ManualExecutor& executor) {
  bool ran = false;
  j.commit([&ran] { ran = true; });
  executor.run_all();
  return ran;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(rocks_journal)

BOOST_AUTO_TEST_CASE(every_entry_kind_survives_a_reopen_in_key_order) {
  World w;
  {
    auto j = w.open();
    BOOST_TEST((fs::status(w.dir).permissions() == fs::perms::owner_all));  // created 0700
    j->record(300, hop(3), 1'700'000'000'000'000, bytes(4096, 3));
    j->record(1, hop(1), kNoWallTime, bytes(4096, 1));
    j->record(256, hop(2), -5, bytes(0, 0));
    j->record_delivery(9, bytes(120, 9));
    j->record_delivery(2, bytes(1, 2));
    j->record_replay_tag(7, tag(1));
    j->record_replay_tag(6, tag(2));
    j->record_checkpoint({42, 1'700'000'123'000'000});
    BOOST_TEST(commit_now(*j, w.executor));
    BOOST_TEST(j->stats().syncs == 1u);
    BOOST_TEST(j->stats().bytes_written > 2 * 4096u);
    BOOST_TEST(j->idle());
  }
  const Found f = w.recover();
  BOOST_TEST((f.packet_order == std::vector<uint64_t>{1, 256, 300}));
  BOOST_TEST((f.packets.at(300).next_hop == hop(3)));
  BOOST_TEST(f.packets.at(300).release_at == 1'700'000'000'000'000);
  BOOST_TEST((f.packets.at(300).packet == bytes(4096, 3)));
  BOOST_TEST((f.packets.at(1).next_hop == hop(1)));
  BOOST_TEST(f.packets.at(1).release_at == kNoWallTime);
  BOOST_TEST((f.packets.at(1).packet == bytes(4096, 1)));
  BOOST_TEST(f.packets.at(256).release_at == -5);
  BOOST_TEST(f.packets.at(256).packet.empty());
  BOOST_TEST((f.delivery_order == std::vector<uint64_t>{2, 9}));
  BOOST_TEST((f.deliveries.at(9) == bytes(120, 9)));
  BOOST_TEST((f.deliveries.at(2) == bytes(1, 2)));
  BOOST_REQUIRE(f.tags.size() == 2u);
  BOOST_TEST((f.tags[0] == std::pair<uint64_t, ReplayTag>{6, tag(2)}));
  BOOST_TEST((f.tags[1] == std::pair<uint64_t, ReplayTag>{7, tag(1)}));
  BOOST_TEST(f.checkpoint.next_delivery_id == 42u);
  BOOST_TEST(f.checkpoint.mix_next_tick == 1'700'000'123'000'000);
}

BOOST_AUTO_TEST_CASE(a_fresh_journal_recovers_nothing_and_the_default_checkpoint) {
  World w;
  w.open().reset();
  const Found f = w.recover();
  BOOST_TEST(f.packets.empty());
  BOOST_TEST(f.deliveries.empty());
  BOOST_TEST(f.tags.empty());
  BOOST_TEST(f.checkpoint.next_delivery_id == 1u);
  BOOST_TEST(f.checkpoint.mix_next_tick == kNoWallTime);
}

// RocksDB's log goes to stderr: a LOG file on the journal's own disk would be written again after
// a failed write, which an assert-enabled librocksdb answers with abort() when the disk is full.
BOOST_AUTO_TEST_CASE(rocksdb_keeps_no_log_file_in_the_journal_directory) {
  World w;
  {
    auto j = w.open();
    j->record(1, hop(1), kNoWallTime, bytes(4096, 1));
    BOOST_TEST(commit_now(*j, w.executor));
  }
  w.recover();
  for (const auto& e : fs::directory_iterator(w.dir)) {
    BOOST_TEST(e.path().filename().string().rfind("LOG", 0) != 0u, "found " << e.path());
  }
}

BOOST_AUTO_TEST_CASE(forgotten_entries_do_not_come_back) {
  World w;
  {
    auto j = w.open();
    for (uint64_t i = 1; i <= 4; ++i) j->record(i, hop(1), kNoWallTime, bytes(64, static_cast<uint8_t>(i)));
    j->record_delivery(1, bytes(8, 1));
    j->record_delivery(2, bytes(8, 2));
    BOOST_TEST(commit_now(*j, w.executor));
    j->forget(2);
    j->forget(0);  // ignored
    j->forget(99);  // never recorded: harmless
    j->forget_delivery(1);
    j->record(5, hop(1), kNoWallTime, bytes(64, 5));
    j->forget(5);  // recorded and forgotten in the same group
    BOOST_TEST(commit_now(*j, w.executor));
  }
  const Found f = w.recover();
  BOOST_TEST((f.packet_order == std::vector<uint64_t>{1, 3, 4}));
  BOOST_TEST((f.delivery_order == std::vector<uint64_t>{2}));
}

BOOST_AUTO_TEST_CASE(a_release_time_recorded_later_replaces_the_packets_own_and_goes_with_it) {
  World w;
  {
    auto j = w.open();
    for (uint64_t i = 1; i <= 3; ++i) j->record(i, hop(1), kNoWallTime, bytes(64, static_cast<uint8_t>(i)));
    BOOST_TEST(commit_now(*j, w.executor));
    j->record_release(1, 1'700'000'000'000'001);
    j->record_release(2, 1'700'000'000'000'002);
    j->forget(2);  // and its release time
    BOOST_TEST(commit_now(*j, w.executor));
  }
  {
    auto j = w.open();
    const Found f = World::recover(*j);
    BOOST_TEST((f.packet_order == std::vector<uint64_t>{1, 3}));
    BOOST_TEST(f.packets.at(1).release_at == 1'700'000'000'000'001);
    BOOST_TEST(f.packets.at(3).release_at == kNoWallTime);
    j->forget(1);  // a recovered release time is forgotten with its packet
    BOOST_TEST(commit_now(*j, w.executor));
  }
  const Found f = w.recover();
  BOOST_TEST((f.packet_order == std::vector<uint64_t>{3}));
  BOOST_TEST(w.open()->skipped_entries() == 0u);
}

BOOST_AUTO_TEST_CASE(the_latest_checkpoint_wins) {
  World w;
  {
    auto j = w.open();
    j->record_checkpoint({5, 100});
    BOOST_TEST(commit_now(*j, w.executor));
    j->record_checkpoint({6, 200});
    j->record_checkpoint({7, kNoWallTime});  // same group: the later one
    BOOST_TEST(commit_now(*j, w.executor));
  }
  const Found f = w.recover();
  BOOST_TEST(f.checkpoint.next_delivery_id == 7u);
  BOOST_TEST(f.checkpoint.mix_next_tick == kNoWallTime);
}

BOOST_AUTO_TEST_CASE(replay_epochs_below_the_given_one_are_dropped) {
  World w;
  {
    auto j = w.open();
    for (uint64_t epoch : {1u, 2u, 3u, 5u}) {
      j->record_replay_tag(epoch, tag(static_cast<uint8_t>(epoch)));
      j->record_replay_tag(epoch, tag(static_cast<uint8_t>(epoch + 100)));
    }
    BOOST_TEST(commit_now(*j, w.executor));
    j->forget_replay_epochs_before(0);  // nothing is below 0
    j->forget_replay_epochs_before(3);
    BOOST_TEST(commit_now(*j, w.executor));
  }
  const Found f = w.recover();
  std::set<uint64_t> epochs;
  for (const auto& [epoch, t] : f.tags) epochs.insert(epoch);
  BOOST_TEST(f.tags.size() == 4u);
  BOOST_TEST((epochs == std::set<uint64_t>{3, 5}));
}

BOOST_AUTO_TEST_CASE(commit_callbacks_run_in_order_including_commits_with_nothing_recorded) {
  World w;
  auto j = w.open();
  std::vector<int> ran;
  j->record(1, hop(1), kNoWallTime, bytes(16, 1));
  j->commit([&] { ran.push_back(1); });
  j->commit([&] { ran.push_back(2); });  // nothing new: covered by the first group
  j->record(2, hop(1), kNoWallTime, bytes(16, 2));
  j->commit([&] { ran.push_back(3); });
  j->commit([&] { ran.push_back(4); });
  BOOST_TEST(ran.empty());  // never inside commit()
  w.executor.run_all();
  BOOST_TEST((ran == std::vector<int>{1, 2, 3, 4}));
  BOOST_TEST(j->stats().syncs == 2u);

  // Idle, nothing recorded: still through the executor, and no write.
  j->commit([&] { ran.push_back(5); });
  BOOST_TEST(ran.size() == 4u);
  BOOST_TEST(!j->idle());
  w.executor.run_all();
  BOOST_TEST(ran.back() == 5);
  BOOST_TEST(j->stats().syncs == 2u);
  BOOST_TEST(j->idle());

  // A callback that records and commits again: its commit runs after the rest of its group.
  j->record(3, hop(1), kNoWallTime, bytes(16, 3));
  j->commit([&] {
    ran.push_back(6);
    j->record(4, hop(1), kNoWallTime, bytes(16, 4));
    j->commit([&] { ran.push_back(8); });
  });
  j->commit([&] { ran.push_back(7); });
  w.executor.run_all();
  BOOST_TEST((ran == std::vector<int>{1, 2, 3, 4, 5, 6, 7, 8}));
  BOOST_TEST(j->stats().syncs == 4u);
}

BOOST_AUTO_TEST_CASE(commits_made_while_a_write_is_in_flight_share_the_next_write) {
  World w;
  auto j = w.open();
  std::vector<int> ran;
  for (int n = 0; n < 10; ++n) {
    j->record(static_cast<uint64_t>(n + 1), hop(1), kNoWallTime, bytes(4096, static_cast<uint8_t>(n)));
    j->commit([&ran, n] { ran.push_back(n); });
  }
  BOOST_TEST(w.executor.pending() == 1u);  // one write in flight, the other nine wait
  BOOST_TEST(w.executor.run_all() == 2u);
  BOOST_TEST(ran.size() == 10u);
  for (int n = 0; n < 10; ++n) BOOST_TEST(ran[static_cast<std::size_t>(n)] == n);
  const JournalStats s = j->stats();
  BOOST_TEST(s.syncs == 2u);
  BOOST_TEST(s.bytes_written > 10 * 4096u);
  BOOST_TEST(s.write_errors == 0u);
  BOOST_TEST(!s.failing);
  j.reset();
  BOOST_TEST(w.recover().packets.size() == 10u);
}

// A written group's batch is reused for a later group: it must come back empty, so every group
// writes only its own records (and a forgotten packet is not put again behind its deletion).
BOOST_AUTO_TEST_CASE(a_reused_group_writes_only_its_own_records) {
  World w;
  {
    auto j = w.open();
    j->record(1, hop(1), kNoWallTime, bytes(4096, 1));
    BOOST_TEST(commit_now(*j, w.executor));
    const uint64_t one = j->stats().bytes_written;
    for (uint64_t i = 2; i <= 5; ++i) {
      j->record(i, hop(1), kNoWallTime, bytes(4096, static_cast<uint8_t>(i)));
      BOOST_TEST(commit_now(*j, w.executor));
      BOOST_TEST(j->stats().bytes_written == i * one);
    }
    j->forget(3);
    BOOST_TEST(commit_now(*j, w.executor));
    j->record(6, hop(2), kNoWallTime, bytes(4096, 6));
    BOOST_TEST(commit_now(*j, w.executor));
    BOOST_TEST(j->stats().syncs == 7u);
  }
  const Found f = w.recover();
  BOOST_TEST((f.packet_order == std::vector<uint64_t>{1, 2, 4, 5, 6}));
  BOOST_TEST((f.packets.at(6).packet == bytes(4096, 6)));
}

BOOST_AUTO_TEST_CASE(the_commit_window_holds_the_write_until_it_passes) {
  World w;
  auto j = w.open(1000);
  int ran = 0;
  j->record(1, hop(1), kNoWallTime, bytes(16, 1));
  j->commit([&] { ++ran; });
  w.clock.advance(600);
  j->record(2, hop(1), kNoWallTime, bytes(16, 2));
  j->commit([&] { ++ran; });  // joins the group waiting for its window
  BOOST_TEST(w.executor.pending() == 0u);
  BOOST_TEST(!j->idle());
  w.clock.advance(399);
  BOOST_TEST(w.executor.pending() == 0u);
  w.clock.advance(1);  // 1000 µs after the group's first commit
  BOOST_TEST(w.executor.pending() == 1u);
  w.executor.run_all();
  BOOST_TEST(ran == 2);
  BOOST_TEST(j->stats().syncs == 1u);
  BOOST_TEST(j->idle());

  // A group whose window passed while the previous write was in flight goes at once after it.
  j->record(3, hop(1), kNoWallTime, bytes(16, 3));
  j->commit([&] { ++ran; });
  w.clock.advance(1000);
  BOOST_TEST(w.executor.pending() == 1u);
  j->record(4, hop(1), kNoWallTime, bytes(16, 4));
  j->commit([&] { ++ran; });
  w.clock.advance(1000);
  BOOST_TEST(w.executor.pending() == 1u);
  w.executor.run_all();
  BOOST_TEST(ran == 4);
  BOOST_TEST(j->stats().syncs == 3u);
}

BOOST_AUTO_TEST_CASE(open_refuses_unsafe_busy_foreign_and_newer_directories) {
  World w;
  // Group/other access.
  BOOST_REQUIRE(::mkdir(w.dir.c_str(), 0755) == 0);
  BOOST_REQUIRE(::chmod(w.dir.c_str(), 0755) == 0);
  const std::string open_dir = w.refusal(w.options());
  BOOST_TEST(contains(open_dir, "journal_dir " + w.dir + ": must be accessible by its owner only (chmod 700)"), open_dir);
  BOOST_REQUIRE(::chmod(w.dir.c_str(), 0700) == 0);

  // A missing parent is not created.
  RocksJournal::Options orphan = w.options();
  orphan.dir = (w.scratch / "missing" / "journal").string();
  const std::string no_parent = w.refusal(orphan);
  BOOST_TEST(contains(no_parent, "journal_dir " + orphan.dir + ": cannot create"), no_parent);

  // A directory with other files and no journal.
  RocksJournal::Options foreign = w.options();
  foreign.dir = (w.scratch / "keys").string();
  BOOST_REQUIRE(::mkdir(foreign.dir.c_str(), 0700) == 0);
  { std::ofstream(foreign.dir + "/epoch.key") << "secret"; }
  const std::string not_empty = w.refusal(foreign);
  BOOST_TEST(contains(not_empty, "holds no journal"), not_empty);

  // Open twice in this process.
  {
    auto j = w.open();
    const std::string twice = w.refusal(w.options());
    BOOST_TEST(contains(twice, "journal_dir " + w.dir + ": in use by another process"), twice);
  }

  // Held by another process: a child takes RocksDB's lock (fcntl on LOCK) and waits.
  int ready[2], release[2];
  BOOST_REQUIRE(::pipe(ready) == 0);
  BOOST_REQUIRE(::pipe(release) == 0);
  const pid_t child = ::fork();
  BOOST_REQUIRE(child >= 0);
  if (child == 0) {  // only async-signal-safe calls here
    ::close(ready[0]);
    ::close(release[1]);
    const int fd = ::open((w.dir + "/LOCK").c_str(), O_RDWR);
    struct flock lock {};
    lock.l_type = F_WRLCK;
    lock.l_whence = SEEK_SET;
    const char ok = (fd >= 0 && ::fcntl(fd, F_SETLK, &lock) == 0) ? '1' : '0';
    (void)::write(ready[1], &ok, 1);
    char c;
    (void)::read(release[0], &c, 1);
    ::_exit(0);
  }
  char ok = 0;
  BOOST_REQUIRE(::read(ready[0], &ok, 1) == 1);
  BOOST_REQUIRE(ok == '1');
  const std::string busy = w.refusal(w.options());
  BOOST_TEST(contains(busy, "journal_dir " + w.dir + ": in use by another process"), busy);
  ::close(release[1]);
  int status = 0;
  ::waitpid(child, &status, 0);
  for (int fd : {ready[0], ready[1], release[0]}) ::close(fd);
  BOOST_TEST(w.refusal(w.options()) == "");  // free again

  // Another format version.
  {
    rocksdb::DB* raw = nullptr;
    BOOST_REQUIRE(rocksdb::DB::Open(rocksdb::Options(), w.dir, &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    const std::string two("\0\0\0\0\0\0\0\2", 8);
    BOOST_REQUIRE(db->Put(rocksdb::WriteOptions(), "v", two).ok());
  }
  const std::string version = w.refusal(w.options());
  BOOST_TEST(contains(version, "journal_dir " + w.dir + ": holds a journal of format version 2"), version);
}

// Writes fail (a full disk, or a failing device), then work again: the callbacks wait, the group
// is retried, later groups wait behind it, and everything is recovered exactly.
void failure_and_retry(bool io_error) {
  World w;
  FailingFileSystem& disk = *w.file_system;
  auto j = w.open();
  std::vector<char> ran;
  j->record(1, hop(1), kNoWallTime, bytes(4096, 1));
  j->record(2, hop(2), 10, bytes(4096, 2));
  j->record_delivery(1, bytes(100, 1));
  j->record_replay_tag(1, tag(1));
  j->commit([&] { ran.push_back('a'); });
  w.executor.run_all();
  BOOST_TEST(ran.size() == 1u);

  disk.io_error = io_error;
  disk.torn = true;
  disk.fail = true;
  j->forget(1);
  j->record(3, hop(3), 30, bytes(4096, 3));
  j->record_delivery(2, bytes(100, 2));
  j->record_checkpoint({3, 77});
  j->commit([&] { ran.push_back('b'); });
  w.executor.run_all();
  BOOST_TEST(ran.size() == 1u);  // b waits
  BOOST_TEST(j->failing());
  BOOST_TEST(j->stats().failing);
  BOOST_TEST(j->stats().write_errors == 1u);
  BOOST_TEST(j->stats().syncs == 1u);
  BOOST_TEST(disk.failures > 0u);
  BOOST_TEST(!j->idle());

  // Recorded while failing: a later group, behind the failed one.
  j->record(4, hop(4), 40, bytes(4096, 4));
  j->forget_delivery(1);
  j->commit([&] { ran.push_back('c'); });
  w.executor.run_all();
  BOOST_TEST(w.executor.pending() == 0u);
  BOOST_TEST(ran.size() == 1u);

  // The retry while the disk still fails fails too.
  w.clock.advance(199'999);
  BOOST_TEST(w.executor.pending() == 0u);
  w.clock.advance(1);
  BOOST_TEST(w.executor.pending() == 1u);
  w.executor.run_all();
  BOOST_TEST(ran.size() == 1u);
  BOOST_TEST(j->failing());
  BOOST_TEST(j->stats().write_errors == 2u);

  // The disk works again: the next retry succeeds, then the later group.
  disk.fail = false;
  w.clock.advance(200'000);
  w.executor.run_all();
  BOOST_TEST((ran == std::vector<char>{'a', 'b', 'c'}));
  BOOST_TEST(!j->failing());
  BOOST_TEST(!j->stats().failing);
  BOOST_TEST(j->stats().write_errors == 2u);
  BOOST_TEST(j->stats().syncs == 3u);
  BOOST_TEST(j->idle());

  j->record(5, hop(5), 50, bytes(4096, 5));
  j->forget(2);
  j->record_replay_tag(2, tag(2));
  j->commit([&] { ran.push_back('d'); });
  w.executor.run_all();
  BOOST_TEST(ran.size() == 4u);
  j.reset();

  const Found f = w.recover();
  BOOST_TEST((f.packet_order == std::vector<uint64_t>{3, 4, 5}));
  for (uint64_t item : f.packet_order) {
    const auto n = static_cast<uint8_t>(item);
    BOOST_TEST((f.packets.at(item).next_hop == hop(n)));
    BOOST_TEST(f.packets.at(item).release_at == static_cast<WallMicros>(10 * item));
    BOOST_TEST((f.packets.at(item).packet == bytes(4096, n)));
  }
  BOOST_TEST((f.delivery_order == std::vector<uint64_t>{2}));
  BOOST_TEST((f.deliveries.at(2) == bytes(100, 2)));
  BOOST_REQUIRE(f.tags.size() == 2u);
  BOOST_TEST((f.tags[0] == std::pair<uint64_t, ReplayTag>{1, tag(1)}));
  BOOST_TEST((f.tags[1] == std::pair<uint64_t, ReplayTag>{2, tag(2)}));
  BOOST_TEST(f.checkpoint.next_delivery_id == 3u);
  BOOST_TEST(f.checkpoint.mix_next_tick == 77);
}

BOOST_AUTO_TEST_CASE(a_full_disk_holds_the_callbacks_until_a_retry_succeeds) { failure_and_retry(false); }

BOOST_AUTO_TEST_CASE(a_failing_device_holds_the_callbacks_until_a_retry_succeeds) { failure_and_retry(true); }

BOOST_AUTO_TEST_CASE(recovery_callbacks_may_forget) {
  World w;
  {
    auto j = w.open();
    for (uint64_t i = 1; i <= 3; ++i) j->record(i, hop(1), kNoWallTime, bytes(32, 1));
    j->record_delivery(1, bytes(8, 1));
    BOOST_TEST(commit_now(*j, w.executor));
  }
  {
    auto j = w.open();
    Journal::RecoverFns fns;
    fns.packet = [&](RecoveredPacket&& p) { if (p.item == 2) j->forget(p.item); };
    fns.delivery = [&](uint64_t id, Bytes) { j->forget_delivery(id); };
    j->recover(fns);
    BOOST_TEST(commit_now(*j, w.executor));
  }
  const Found f = w.recover();
  BOOST_TEST((f.packet_order == std::vector<uint64_t>{1, 3}));
  BOOST_TEST(f.deliveries.empty());
}

BOOST_AUTO_TEST_CASE(malformed_entries_are_skipped_and_counted) {
  World w;
  {
    auto j = w.open();
    j->record(1, hop(1), kNoWallTime, bytes(32, 1));
    j->record_delivery(1, bytes(8, 1));
    BOOST_TEST(commit_now(*j, w.executor));
  }
  {
    rocksdb::DB* raw = nullptr;
    BOOST_REQUIRE(rocksdb::DB::Open(rocksdb::Options(), w.dir, &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    const rocksdb::WriteOptions wo;
    BOOST_REQUIRE(db->Put(wo, std::string("p\0\0\0\0\0\0\0\5", 9), "short").ok());  // value < 24 bytes
    BOOST_REQUIRE(db->Put(wo, std::string("p\0\0\0\6", 5), std::string(40, 'x')).ok());  // key length
    BOOST_REQUIRE(db->Put(wo, std::string("d\0\0", 3), "x").ok());                        // key length
    BOOST_REQUIRE(db->Put(wo, std::string("r\0\0\0\0\0\0\0\1", 9), "").ok());           // no tag
    BOOST_REQUIRE(db->Put(wo, "m", "abc").ok());                                          // value length
  }
  auto j = w.open();
  const Found f = World::recover(*j);
  BOOST_TEST((f.packet_order == std::vector<uint64_t>{1}));
  BOOST_TEST((f.delivery_order == std::vector<uint64_t>{1}));
  BOOST_TEST(f.tags.empty());
  BOOST_TEST(f.checkpoint.next_delivery_id == 1u);
  BOOST_TEST(j->skipped_entries() == 5u);
}

BOOST_AUTO_TEST_SUITE_END()
