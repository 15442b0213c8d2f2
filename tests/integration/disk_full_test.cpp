// A full disk under relay-alpha's journal: new submissions are answered "unavailable", the
// metrics say the journal is failing, nothing answered ACCEPTED is lost; once space is free again
// the relay resumes by itself (docs/relay.md, "Durability"; docs/journal.md, "When a write fails").
//
// The journal sits on a small tmpfs mounted in a private mount namespace of this test process
// (root only); the relays it starts inherit the namespace. unshare() changes the namespace of
// the calling thread for good, which is why this suite has a file (and so a process) of its own.
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "harness.h"
#include "proxy/sim/temp_dir.h"

namespace veil::it {

namespace {

using sim::Clock;

uint64_t free_bytes(const std::filesystem::path& p) {
  struct statvfs s {};
  if (::statvfs(p.c_str(), &s) != 0) return 0;
  return static_cast<uint64_t>(s.f_bavail) * s.f_frsize;
}

// Writes `bytes` of filler into `path`; false if the file system refused part of it.
bool write_filler(const std::filesystem::path& path, uint64_t bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  std::vector<char> chunk(1 << 16, 'f');
  bool ok = true;
  while (bytes > 0 && ok) {
    const std::size_t n = static_cast<std::size_t>(std::min<uint64_t>(bytes, chunk.size()));
    const ssize_t w = ::write(fd, chunk.data(), n);
    ok = w == static_cast<ssize_t>(n);
    if (ok) bytes -= n;
  }
  ::close(fd);
  return ok;
}

bool journal_failing(const nlohmann::json& m) {
  return m.contains("gauges") && m["gauges"].value("journal_failing", false);
}

uint64_t write_errors(const nlohmann::json& m) {
  return m.contains("journal") ? m["journal"].value("write_errors", uint64_t{0}) : 0;
}

// A submission on a connection of its own, kept open so that a late answer can still be read.
struct Attempt {
  std::size_t n = 0;
  sim::Socket sock;
  std::optional<relay::SubmitAnswer> answer;
};

Attempt submit(Deployment& net, std::size_t n, Millis timeout) {
  Attempt a;
  a.n = n;
  a.sock = raw_connection(net.submit_port(), timeout);
  const auto sub = v1_submission(net.alpha.accounts[n % 4], net.beta.accounts[n % 6], n, net.rng);
  if (a.sock.send_frame(as_bytes(sub.SerializeAsString()))) a.answer = read_answer(a.sock);
  return a;
}

bool accepted(const Attempt& a) {
  return a.answer && a.answer->status() == relay::SubmitAnswer::ACCEPTED;
}

std::string reason(const Attempt& a) { return a.answer ? a.answer->reason() : std::string("(no answer)"); }

}  // namespace

BOOST_AUTO_TEST_SUITE(disk_full)

BOOST_AUTO_TEST_CASE(a_full_journal_disk_answers_unavailable_loses_nothing_and_resumes) {
  sim::Watchdog dog(60);
  BOOST_REQUIRE_MESSAGE(::geteuid() == 0,
                        "disk_full needs root: it mounts a small tmpfs in a private mount namespace "
                        "(run the suite as root; it is not skipped)");
  BOOST_REQUIRE_MESSAGE(::unshare(CLONE_NEWNS) == 0, "unshare(CLONE_NEWNS): " << std::strerror(errno));
  BOOST_REQUIRE_MESSAGE(::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0,
                        "making / private: " << std::strerror(errno));
  constexpr uint64_t kTmpfs = 16u << 20;
  constexpr uint64_t kHeadroom = 256u << 10;  // left free after the filler
  sim::TempDir scratch("disk-full");
  const auto mnt = scratch.path() / "tmpfs";
  std::filesystem::create_directory(mnt);
  BOOST_REQUIRE_MESSAGE(::mount("veil-disk-full", mnt.c_str(), "tmpfs", MS_NOSUID | MS_NODEV,
                                ("size=" + std::to_string(kTmpfs) + ",mode=0700").c_str()) == 0,
                        "mount tmpfs: " << std::strerror(errno));
  struct Unmount {
    std::filesystem::path p;
    ~Unmount() { ::umount2(p.c_str(), MNT_DETACH); }
  } unmount{mnt};
  const auto journal_dir = mnt / "relay-alpha.journal";  // created (0700) by the relay
  const auto filler = mnt / "filler";

  Deployment net("disk-full");
  net.configure(kAlpha, {{"journal_dir", journal_dir.string()}});
  net.start();
  auto& alpha = net.relay(kAlpha);
  Inbox& inbox = net.beta_inbox();
  const uint64_t free_at_start = free_bytes(mnt);
  BOOST_REQUIRE_GT(free_at_start, kHeadroom + (1u << 20));
  BOOST_REQUIRE(write_filler(filler, free_at_start - kHeadroom));
  const uint64_t free_after_filler = free_bytes(mnt);

  // 1. Submit until the journal cannot write, and stays so. After a failed write the journal
  // reopens RocksDB, whose recovery writes the log's live entries to a table file and deletes the
  // log: that may free enough space to go on for a while (an episode the reopen absorbed). The
  // disk counts as full once the journal still fails, with more write errors, a second after a
  // submission was answered unavailable.
  std::set<std::size_t> ok;                // answered ACCEPTED
  std::set<std::size_t> unavailable;       // answered unavailable: nothing was accepted
  std::map<std::string, std::size_t> other;
  std::vector<Attempt> waiting;            // no answer yet: their write is being retried
  std::size_t n = 0;
  std::size_t slow = 0;      // ACCEPTED after 150 ms or more: a retry wrote it
  std::size_t absorbed = 0;  // unavailable episodes that a reopen ended with the disk still full
  bool full = false;
  uint64_t errors_at_full = 0;
  const auto fill_start = Clock::now();
  while (!full && n < 3000 && Clock::now() - fill_start < 25s) {
    const auto t0 = Clock::now();
    Attempt a = submit(net, n++, 1500ms);
    if (accepted(a)) {
      ok.insert(a.n);
      if (Clock::now() - t0 >= 150ms) ++slow;
    } else if (reason(a) == "unavailable") {
      unavailable.insert(a.n);
      std::this_thread::sleep_for(100ms);  // a fresh metrics snapshot
      const uint64_t errors = write_errors(alpha.metrics());
      std::this_thread::sleep_for(1s);
      const auto m = alpha.metrics();
      if (journal_failing(m) && write_errors(m) > errors) {
        full = true;
        errors_at_full = errors;
      } else {
        ++absorbed;
      }
    } else if (!a.answer) {
      waiting.push_back(std::move(a));
    } else {
      ++other[reason(a)];
    }
  }
  BOOST_REQUIRE_MESSAGE(full, "after " << n << " submissions (" << ok.size() << " accepted, " << unavailable.size()
                        << " unavailable, " << waiting.size() << " unanswered) the journal is not failing for good; "
                        << free_bytes(mnt) << " bytes free; metrics " << alpha.metrics().dump());
  BOOST_TEST(other.empty(), "other answers: " << other.size());
  const std::set<std::size_t> accepted_before_full = ok;

  // 2. While the disk stays full: still unavailable, the journal keeps retrying, and what was
  // accepted before still goes out (it is durable).
  for (int i = 0; i < 3; ++i) {
    Attempt a = submit(net, n++, 1500ms);
    BOOST_TEST(reason(a) == "unavailable", "submission " << a.n << " on a full disk: " << reason(a));
    if (reason(a) == "unavailable") unavailable.insert(a.n);
    if (accepted(a)) ok.insert(a.n);
    if (!a.answer) waiting.push_back(std::move(a));
  }
  const auto still = alpha.metrics();
  BOOST_TEST(journal_failing(still), "the journal stopped failing with the disk still full");
  const uint64_t errors_while_full = write_errors(still);
  BOOST_TEST(errors_while_full > errors_at_full);
  const auto delivered_of = [&](const std::set<std::size_t>& s) {
    const auto got = inbox.messages();
    std::size_t k = 0;
    for (std::size_t m : s) k += got.count(m);
    return k;
  };
  wait_until(5s, [&] { return delivered_of(accepted_before_full) == accepted_before_full.size(); }, 20ms);
  const std::size_t delivered_while_full = delivered_of(accepted_before_full);
  BOOST_TEST(journal_failing(alpha.metrics()), "the journal stopped failing with the disk still full");
  net.expect_running();

  // 3. Space again: the relay resumes by itself.
  std::filesystem::remove(filler);
  const auto freed = Clock::now();
  bool resumed = false;
  std::size_t refused_after_free = 0;
  while (!resumed && Clock::now() - freed < 5s) {
    Attempt a = submit(net, n++, 3000ms);
    if (accepted(a)) {
      ok.insert(a.n);
      resumed = true;
    } else if (!a.answer) {
      waiting.push_back(std::move(a));
    } else {
      ++refused_after_free;
      if (reason(a) == "unavailable") unavailable.insert(a.n);
      std::this_thread::sleep_for(100ms);
    }
  }
  const auto resume_ms = std::chrono::duration_cast<Millis>(Clock::now() - freed).count();
  BOOST_REQUIRE_MESSAGE(resumed, "relay-alpha did not accept a submission within 5 s of the space coming back ("
                                     << alpha.metrics().dump() << ")");
  BOOST_TEST(wait_until(2s, [&] { return !journal_failing(alpha.metrics()); }), "journal_failing still set after resuming");
  // The submissions whose write failed are answered now (ACCEPTED: the retried write holds them).
  std::size_t late_accepted = 0;
  for (Attempt& a : waiting) {
    a.answer = read_answer(a.sock);
    BOOST_TEST(accepted(a), "submission " << a.n << " that waited through the failure: " << reason(a));
    if (accepted(a)) {
      ok.insert(a.n);
      ++late_accepted;
    }
  }
  Submitter more(net.submit_port());
  for (std::size_t i = 0; i < 20; ++i) {
    BOOST_REQUIRE(more.send(v1_submission(net.alpha.accounts[0], net.beta.accounts[i % 6], n + i, net.rng)));
  }
  BOOST_REQUIRE(more.wait_answers(5s));
  BOOST_TEST(more.accepted().size() == 20u);
  for (uint64_t id : more.accepted()) ok.insert(id);

  // 4. Every accepted message exactly once; nothing answered unavailable.
  wait_until(10s, [&] {
    const auto got = inbox.messages();
    for (std::size_t m : ok) {
      if (!got.count(m)) return false;
    }
    return true;
  });
  std::this_thread::sleep_for(700ms);
  const auto got = inbox.messages();
  std::size_t lost = 0, delivered_unavailable = 0;
  for (std::size_t m : ok) lost += got.count(m) ? 0 : 1;
  for (std::size_t m : unavailable) delivered_unavailable += got.count(m);
  BOOST_TEST(lost == 0u, lost << " accepted message(s) lost");
  BOOST_TEST(delivered_unavailable == 0u, delivered_unavailable << " message(s) answered unavailable were delivered");
  // (A delivery id repeated with the same content is allowed; a message under a second id is a
  // problem the Inbox reports.)
  BOOST_TEST(inbox.problems().empty(), describe(inbox.problems()));
  net.expect_running();
  // The log said it: an error when the journal began failing (the disk stayed full for seconds),
  // and last that it recovered.
  const auto log_lines = [&] {
    std::ifstream f(net.dir() / (std::string(kAlpha) + ".log"));
    std::vector<nlohmann::json> lines;
    for (std::string line; std::getline(f, line);) lines.push_back(nlohmann::json::parse(line, nullptr, false));
    return lines;
  };
  const auto said = [&](const std::string& msg, const std::string& level) {
    std::size_t k = 0;
    for (const auto& j : log_lines()) k += j.is_object() && j.value("msg", "") == msg && j.value("level", "") == level;
    return k;
  };
  BOOST_TEST(wait_until(3s, [&] { return said("journal_recovered", "info") >= 1; }));
  BOOST_TEST(said("journal_failing", "error") >= 1u);
  std::string last;
  for (const auto& j : log_lines()) {
    const std::string msg = j.is_object() ? j.value("msg", "") : "";
    if (msg == "journal_failing" || msg == "journal_recovered") last = msg;
  }
  BOOST_TEST(last == "journal_recovered");
  const auto final_metrics = alpha.metrics();
  BOOST_TEST_MESSAGE("disk_full: tmpfs " << (kTmpfs >> 20) << " MiB, free at start " << free_at_start << " B, after the filler "
                     << free_after_filler << " B; accepted before the disk was full " << accepted_before_full.size()
                     << " (answered only after a retry reopened the journal " << slow << ", failures a reopen ended "
                     << "by freeing the old log " << absorbed << ")"
                     << ", waiting for the failed write " << waiting.size() << ", answered unavailable " << unavailable.size()
                     << "; write errors " << errors_at_full << " when the lasting failure began, " << errors_while_full
                     << " a second later, " << write_errors(final_metrics) << " in all; accepted delivered while the disk was full "
                     << delivered_while_full << " of " << accepted_before_full.size() << "; resumed " << resume_ms
                     << " ms after the filler was deleted (refused meanwhile " << refused_after_free << "); late answers ACCEPTED "
                     << late_accepted << "; accepted " << ok.size() << ", delivered " << got.size() << ", lost " << lost
                     << ", delivery frames " << inbox.frames());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace veil::it
