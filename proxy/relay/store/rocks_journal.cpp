// RocksJournal: the journal's keys in RocksDB, group commit on the executor, reopen-and-retry.
#include "proxy/relay/store/rocks_journal.h"

#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <unordered_map>
#include <stdexcept>
#include <utility>
#include <vector>

#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/file_system.h>
#include <rocksdb/memtablerep.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include "base/check.h"

namespace veil::relay {

namespace {

// docs/journal.md, "Key layout". Bump kFormatVersion with any change to keys or values.
constexpr uint64_t kFormatVersion = 1;
constexpr char kVersionKey = 'v', kPacket = 'p', kRelease = 't', kDelivery = 'd', kReplay = 'r',
               kCheckpoint = 'm';
constexpr std::size_t kPacketHead = crypto::kRelayIdSize + 8;  // next_hop, release_at
// A written group whose batch held at most this much is kept for the next group.
constexpr std::size_t kSpareBatchLimit = 64 << 20;

void put_be64(char* out, uint64_t v) {
  for (int i = 7; i >= 0; --i, v >>= 8) out[i] = static_cast<char>(v & 0xff);
}
uint64_t get_be64(const char* in) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(in[i]);
  return v;
}
std::string be64(uint64_t v) {
  std::string s(8, '\0');
  put_be64(s.data(), v);
  return s;
}
std::string key(char kind, uint64_t id) { return kind + be64(id); }
rocksdb::Slice slice(ByteView b) { return {reinterpret_cast<const char*>(b.data()), b.size()}; }

// RocksDB's own log goes to the relay's stderr, not to a LOG file in the journal directory: on a
// full disk RocksDB's file logger writes to its file again after a write to it failed (e.g. the
// background error recovery reports the missing space), and librocksdb builds that keep their
// assertions, such as Debian 12's 7.8, abort() there. Warnings and errors only, without the
// option dump each open writes (a retry reopens the database every 200 ms), and at most kBurst
// lines a minute, so that a disk that stays full does not flood the log.
std::mutex sink_mu;
std::function<void(const std::string&)>& log_sink() {
  static std::function<void(const std::string&)> sink;
  return sink;
}

void say(const std::string& line) {
  std::lock_guard<std::mutex> lock(sink_mu);
  if (log_sink()) {
    log_sink()(line);
  } else {
    std::fprintf(stderr, "veil-relay: rocksdb: %s\n", line.c_str());
  }
}

class StderrLogger final : public rocksdb::Logger {
 public:
  StderrLogger() : rocksdb::Logger(rocksdb::WARN_LEVEL) {}
  using rocksdb::Logger::Logv;
  void LogHeader(const char*, va_list) override {}
  void Logv(const char* format, va_list ap) override {
    char line[1024];
    std::vsnprintf(line, sizeof line, format, ap);
    std::size_t len = std::strlen(line);
    while (len > 0 && line[len - 1] == '\n') line[--len] = '\0';
    std::lock_guard<std::mutex> lock(mu_);
    const auto now = std::chrono::steady_clock::now();
    if (now - window_start_ >= std::chrono::minutes(1)) {
      if (suppressed_ > 0) {
        say(std::to_string(suppressed_) + " more line(s) suppressed");
      }
      window_start_ = now;
      lines_ = 0;
      suppressed_ = 0;
    }
    if (lines_ >= kBurst) {
      ++suppressed_;
      return;
    }
    ++lines_;
    say(line);
  }

 private:
  static constexpr std::size_t kBurst = 20;
  std::mutex mu_;
  std::chrono::steady_clock::time_point window_start_ = std::chrono::steady_clock::now();
  std::size_t lines_ = 0;
  std::size_t suppressed_ = 0;
};

// One logger for every journal of the process, so that its limit holds across reopens.
std::shared_ptr<rocksdb::Logger> rocksdb_logger() {
  static const std::shared_ptr<rocksdb::Logger> logger = std::make_shared<StderrLogger>();
  return logger;
}

// A journal holds small, short-lived values (4 KiB packets, deliveries, 16-byte tags) that are
// mostly deleted within seconds, written in synced groups and read only at start.
rocksdb::Options db_options(rocksdb::Env* env) {
  rocksdb::Options o;
  o.create_if_missing = true;
  if (env != nullptr) o.env = env;
  // Packets and deliveries are ciphertext: compression costs CPU and saves nothing.
  o.compression = rocksdb::kNoCompression;
  o.bottommost_compression = rocksdb::kNoCompression;
  // RocksDB's own log: warnings and errors only, on stderr (StderrLogger), no periodic statistics.
  o.info_log = rocksdb_logger();
  o.info_log_level = rocksdb::WARN_LEVEL;
  o.stats_dump_period_sec = 0;
  o.stats_persist_period_sec = 0;
  // The memtable as an unsorted vector, sorted once when it is flushed (on a background thread):
  // the journal reads only at start, after the replayed WAL was flushed, so keeping it sorted on
  // every insert (the default skip list) buys nothing and costs the synced write about 1.5 us of
  // CPU per 4 KiB packet here (docs/journal.md). A vector takes one writer at a time, as the
  // journal writes anyway.
  o.memtable_factory = std::make_shared<rocksdb::VectorRepFactory>();
  o.allow_concurrent_memtable_write = false;
  // Left at their defaults on purpose: point-in-time WAL recovery stops at the torn tail a failed
  // write may leave; recovery flushes the replayed WAL (avoid_flush_during_recovery = false), so
  // that tail never sits in front of newer records; no WAL recycling; paranoid checks on. Most
  // puts meet their delete in the memtable (64 MiB), so little reaches the SST files.
  return o;
}

[[noreturn]] void refuse(const std::string& dir, const std::string& why) {
  throw std::runtime_error("journal_dir " + dir + ": " + why);
}

// Creates `dir` (mode 0700) if missing and checks who may enter it.
void check_directory(const std::string& dir) {
  if (dir.empty()) throw std::runtime_error("journal_dir: empty");
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) {
    if (errno != ENOENT) refuse(dir, std::strerror(errno));
    if (::mkdir(dir.c_str(), 0700) != 0)
      refuse(dir, errno == ENOENT ? std::string("cannot create: its parent directory does not exist")
                                  : std::string("cannot create: ") + std::strerror(errno));
    if (::stat(dir.c_str(), &st) != 0) refuse(dir, std::strerror(errno));
  }
  if (!S_ISDIR(st.st_mode)) refuse(dir, "not a directory");
  if (st.st_uid != ::geteuid()) refuse(dir, "must be owned by the user running the relay");
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    refuse(dir, std::string("must be accessible by its owner only (chmod 700); it is ") + mode);
  }
  std::error_code ec;
  const bool has_db = std::filesystem::exists(std::filesystem::path(dir) / "CURRENT", ec);
  if (!has_db && !std::filesystem::is_empty(dir, ec))
    refuse(dir, "not empty and holds no journal (give the journal a directory of its own)");
}

}  // namespace

struct RocksJournal::Group {
  rocksdb::WriteBatch batch;
  std::vector<std::function<void()>> callbacks;
};

struct RocksJournal::Outcome {
  rocksdb::Status status;
  uint64_t micros = 0;
};

void RocksJournal::set_log(std::function<void(const std::string&)> sink) {
  std::lock_guard<std::mutex> lock(sink_mu);
  log_sink() = std::move(sink);
}

std::unique_ptr<RocksJournal> RocksJournal::open(Options options, Clock& clock, Executor& executor) {
  const std::string& dir = options.dir;
  check_directory(dir);
  std::unique_ptr<rocksdb::Env> env;
  if (options.file_system) env = rocksdb::NewCompositeEnv(options.file_system);
  rocksdb::DB* raw = nullptr;
  const rocksdb::Status s = rocksdb::DB::Open(db_options(env.get()), dir, &raw);
  std::unique_ptr<rocksdb::DB> db(raw);
  if (!s.ok()) {
    // RocksDB's LOCK: another process holds it, or this process already has the journal open.
    const std::string what = s.ToString();
    if (s.IsIOError() && (what.find("/LOCK") != std::string::npos ||
                          what.find("lock hold by current process") != std::string::npos))
      refuse(dir, "in use by another process (its LOCK is held)");
    refuse(dir, "cannot open: " + what);
  }
  std::string version;
  const rocksdb::Status v = db->Get(rocksdb::ReadOptions(), std::string(1, kVersionKey), &version);
  if (v.IsNotFound()) {
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
    it->SeekToFirst();
    if (it->Valid()) refuse(dir, "holds a database without a journal format version");
    rocksdb::WriteOptions sync;
    sync.sync = true;
    const rocksdb::Status w = db->Put(sync, std::string(1, kVersionKey), be64(kFormatVersion));
    if (!w.ok()) refuse(dir, "cannot write: " + w.ToString());
  } else if (!v.ok()) {
    refuse(dir, "cannot read: " + v.ToString());
  } else if (version.size() != 8 || get_be64(version.data()) != kFormatVersion) {
    const std::string found = version.size() == 8 ? std::to_string(get_be64(version.data())) : "unreadable";
    refuse(dir, "holds a journal of format version " + found + "; this relay reads version " +
                    std::to_string(kFormatVersion));
  }
  return std::unique_ptr<RocksJournal>(
      new RocksJournal(std::move(options), clock, executor, std::move(env), std::move(db)));
}

RocksJournal::RocksJournal(Options options, Clock& clock, Executor& executor,
                           std::unique_ptr<rocksdb::Env> env, std::unique_ptr<rocksdb::DB> db)
    : options_(std::move(options)), clock_(clock), executor_(executor), env_(std::move(env)),
      db_(std::move(db)), current_(std::make_unique<Group>()) {
  window_timer_ = clock_.timer([this] { start_if_due(); });
  retry_timer_ = clock_.timer([this] { start_write(); });
}

RocksJournal::~RocksJournal() {
  VEIL_CHECK(!in_flight_, "a RocksJournal is destroyed only when no write is in flight");
  if (db_) (void)db_->Close();  // an error here leaves nothing to do: the WAL is synced
  db_.reset();
}

void RocksJournal::record(uint64_t item, const crypto::RelayId& next_hop, WallMicros release_at,
                          ByteView packet) {
  const std::string k = key(kPacket, item);
  char head[kPacketHead];
  std::memcpy(head, next_hop.data(), next_hop.size());
  put_be64(head + next_hop.size(), static_cast<uint64_t>(release_at));
  const rocksdb::Slice parts[] = {rocksdb::Slice(head, sizeof head), slice(packet)};
  const rocksdb::Slice key_part(k);
  (void)current_->batch.Put(rocksdb::SliceParts(&key_part, 1), rocksdb::SliceParts(parts, 2));
}

void RocksJournal::record_release(uint64_t item, WallMicros release_at) {
  (void)current_->batch.Put(key(kRelease, item), be64(static_cast<uint64_t>(release_at)));
  timed_.insert(item);
}

// A release time is deleted only where one was written: a tombstone for a key that never existed
// would still be carried into the table files and compacted, for every packet.
void RocksJournal::forget(uint64_t item) {
  if (item == 0) return;
  (void)current_->batch.Delete(key(kPacket, item));
  if (timed_.erase(item) != 0) (void)current_->batch.Delete(key(kRelease, item));
}

void RocksJournal::record_delivery(uint64_t delivery_id, ByteView delivery) {
  (void)current_->batch.Put(key(kDelivery, delivery_id), slice(delivery));
}

void RocksJournal::forget_delivery(uint64_t delivery_id) {
  (void)current_->batch.Delete(key(kDelivery, delivery_id));
}

void RocksJournal::record_replay_tag(uint64_t epoch, const ReplayTag& tag) {
  const std::string k = key(kReplay, epoch) + std::string(tag.begin(), tag.end());
  (void)current_->batch.Put(k, rocksdb::Slice());
}

void RocksJournal::forget_replay_epochs_before(uint64_t epoch) {
  if (epoch != 0) (void)current_->batch.DeleteRange(std::string(1, kReplay), key(kReplay, epoch));
}

void RocksJournal::record_checkpoint(const JournalCheckpoint& checkpoint) {
  const std::string value =
      be64(checkpoint.next_delivery_id) + be64(static_cast<uint64_t>(checkpoint.mix_next_tick));
  (void)current_->batch.Put(std::string(1, kCheckpoint), value);
}

void RocksJournal::commit(std::function<void()> durable) {
  // Nothing recorded since the group being written: that group covers this commit too.
  if (written_ && current_->batch.Count() == 0 && current_->callbacks.empty()) {
    written_->callbacks.push_back(std::move(durable));
    return;
  }
  if (current_->callbacks.empty()) current_first_commit_ = clock_.now();
  current_->callbacks.push_back(std::move(durable));
  start_if_due();
}

bool RocksJournal::idle() const { return !written_ && current_->callbacks.empty(); }

// Starts writing the current group if nothing is being written and its window has passed.
void RocksJournal::start_if_due() {
  if (written_ || current_->callbacks.empty()) return;
  const Micros due = current_first_commit_ + options_.commit_window;
  if (options_.commit_window > 0 && current_->batch.Count() != 0 && clock_.now() < due) {
    if (!window_timer_->armed()) window_timer_->arm_at(due);
    return;
  }
  window_timer_->cancel();
  written_ = std::exchange(current_, spare_ ? std::move(spare_) : std::make_unique<Group>());
  start_write();
}

// Posts the write of `written_` (a fresh group, or the retry of a failed one).
void RocksJournal::start_write() {
  in_flight_ = true;
  auto outcome = std::make_shared<Outcome>();
  executor_.post([this, outcome, batch = &written_->batch, reopen = reopen_] {
                   write_on_worker(*batch, reopen, *outcome);
                 },
                 [this, outcome] { written(*outcome); });
}

// Executor thread. After a failed write RocksDB refuses every later write on that database (the
// WAL writer keeps its error; a NoSpace error is resumed only by RocksDB's own background
// recovery, an I/O error never), so the database is closed and opened again first: that replays
// the WAL up to the failed record and starts a new WAL.
void RocksJournal::write_on_worker(rocksdb::WriteBatch& batch, bool reopen, Outcome& outcome) {
  if (reopen) {
    if (db_) (void)db_->Close();  // reports the error the database already has
    db_.reset();
    rocksdb::DB* raw = nullptr;
    outcome.status = rocksdb::DB::Open(db_options(env_.get()), options_.dir, &raw);
    db_.reset(raw);
    if (!outcome.status.ok()) return;
  }
  if (batch.Count() == 0) return;  // only callbacks: nothing to make durable
  rocksdb::WriteOptions sync;
  sync.sync = true;
  const auto start = std::chrono::steady_clock::now();
  outcome.status = db_->Write(sync, &batch);
  outcome.micros = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                             std::chrono::steady_clock::now() - start)
                                             .count());
}

void RocksJournal::written(const Outcome& outcome) {
  in_flight_ = false;
  if (!outcome.status.ok()) {
    reopen_ = true;
    stats_.failing = true;
    ++stats_.write_errors;
    retry_timer_->arm_at(clock_.now() + options_.retry_interval);
    return;
  }
  reopen_ = false;
  stats_.failing = false;
  if (written_->batch.Count() != 0) {
    ++stats_.syncs;
    stats_.bytes_written += written_->batch.GetDataSize();
    stats_.sync_micros += outcome.micros;
    stats_.sync_us.observe(static_cast<double>(outcome.micros));
  }
  std::unique_ptr<Group> done = std::move(written_);
  for (auto& callback : done->callbacks) callback();
  // The next group reuses this one's buffer (a batch of thousands of packets is megabytes: a fresh
  // one would grow by copying and touch new pages), unless it grew unusually large.
  if (done->batch.GetDataSize() <= kSpareBatchLimit) {
    done->batch.Clear();
    done->callbacks.clear();
    spare_ = std::move(done);
  }
  start_if_due();
}

JournalCheckpoint RocksJournal::recover(const RecoverFns& fns) {
  rocksdb::ReadOptions read;
  read.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read));
  // Visits every key of one kind, in order; `fn` returns false for a malformed entry.
  const auto each = [&](char kind, const std::function<bool(rocksdb::Slice, rocksdb::Slice)>& fn) {
    for (it->Seek(rocksdb::Slice(&kind, 1)); it->Valid() && it->key()[0] == kind; it->Next())
      if (!fn(it->key(), it->value())) ++skipped_;
    if (!it->status().ok()) refuse(options_.dir, "cannot read: " + it->status().ToString());
  };
  std::unordered_map<uint64_t, WallMicros> release;  // item -> the mix's release time
  each(kRelease, [&](rocksdb::Slice k, rocksdb::Slice v) {
    if (k.size() != 9 || v.size() != 8) return false;
    release[get_be64(k.data() + 1)] = static_cast<WallMicros>(get_be64(v.data()));
    return true;
  });
  each(kPacket, [&](rocksdb::Slice k, rocksdb::Slice v) {
    if (k.size() != 9 || v.size() < kPacketHead) return false;
    RecoveredPacket p;
    p.item = get_be64(k.data() + 1);
    std::memcpy(p.next_hop.data(), v.data(), p.next_hop.size());
    p.release_at = static_cast<WallMicros>(get_be64(v.data() + p.next_hop.size()));
    if (auto r = release.find(p.item); r != release.end()) {
      p.release_at = r->second;
      timed_.insert(p.item);
      release.erase(r);
    }
    p.packet.assign(v.data() + kPacketHead, v.data() + v.size());
    if (fns.packet) fns.packet(std::move(p));
    return true;
  });
  for (const auto& [item, t] : release) (void)current_->batch.Delete(key(kRelease, item));  // orphans
  each(kDelivery, [&](rocksdb::Slice k, rocksdb::Slice v) {
    if (k.size() != 9) return false;
    if (fns.delivery) fns.delivery(get_be64(k.data() + 1), Bytes(v.data(), v.data() + v.size()));
    return true;
  });
  each(kReplay, [&](rocksdb::Slice k, rocksdb::Slice v) {
    if (k.size() != 1 + 8 + ReplayTag{}.size() || !v.empty()) return false;
    ReplayTag tag;
    std::memcpy(tag.data(), k.data() + 9, tag.size());
    if (fns.replay_tag) fns.replay_tag(get_be64(k.data() + 1), tag);
    return true;
  });
  JournalCheckpoint checkpoint;
  each(kCheckpoint, [&](rocksdb::Slice k, rocksdb::Slice v) {
    if (k.size() != 1 || v.size() != 16) return false;
    checkpoint.next_delivery_id = get_be64(v.data());
    checkpoint.mix_next_tick = static_cast<WallMicros>(get_be64(v.data() + 8));
    return true;
  });
  return checkpoint;
}

}  // namespace veil::relay
