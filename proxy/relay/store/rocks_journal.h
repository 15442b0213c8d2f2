// The relay's durable journal on RocksDB: group commit with one synced write per group, retried
// until it succeeds (key layout, options and failure behaviour: docs/journal.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_set>

#include "base/clock.h"
#include "base/executor.h"
#include "proxy/relay/core/journal.h"

namespace rocksdb {
class DB;
class Env;
class FileSystem;
class WriteBatch;
}  // namespace rocksdb

namespace veil::relay {

// Loop thread only, like every Journal; the synced writes (and the reopen after a failed one) run
// on the executor, one at a time. The clock, the executor and the journal must outlive each other
// as long as a write is in flight.
class RocksJournal final : public Journal {
 public:
  // Where RocksDB's own warnings and errors go (any thread; at most 20 lines a minute, then a
  // count of those left out), instead of "veil-relay: rocksdb: <line>" on stderr.
  static void set_log(std::function<void(const std::string&)> sink);

  struct Options {
    std::string dir;                  // the journal directory (config: journal_dir)
    Micros commit_window = 0;         // a group is written no earlier than this after its first
                                      // commit (0: at once, still on the executor)
    Micros retry_interval = 200'000;  // after a failed write, the wait before the next attempt
    std::shared_ptr<rocksdb::FileSystem> file_system;  // tests only: null = the default
  };

  // Opens (creating it with mode 0700 if missing; its parent must exist) the journal in
  // `options.dir`. Throws std::runtime_error with one line "journal_dir <dir>: ..." if the
  // directory cannot be created, is accessible by anyone but its owner, is owned by another user,
  // is in use by another process (or already open here), is not empty yet holds no journal, holds
  // a journal of another format version, or cannot be opened.
  static std::unique_ptr<RocksJournal> open(Options options, Clock& clock, Executor& executor);

  // Closes the database. Precondition (checked): no write is in flight; the owner runs its loop
  // until idle() before destroying the journal. Groups still waiting (behind a failed write, or
  // for their commit window) are dropped and their callbacks never run.
  ~RocksJournal() override;
  RocksJournal(const RocksJournal&) = delete;
  RocksJournal& operator=(const RocksJournal&) = delete;

  // Each adds to the current batch (nothing touches the disk before commit()).
  void record(uint64_t item, const crypto::RelayId& next_hop, WallMicros release_at,
              ByteView packet) override;
  void record_release(uint64_t item, WallMicros release_at) override;
  void forget(uint64_t item) override;  // 0 is ignored; also forgets its release time
  void record_delivery(uint64_t delivery_id, ByteView delivery) override;
  void forget_delivery(uint64_t delivery_id) override;
  void record_replay_tag(uint64_t epoch, const ReplayTag& tag) override;
  void forget_replay_epochs_before(uint64_t epoch) override;  // one range deletion
  void record_checkpoint(const JournalCheckpoint& checkpoint) override;

  // Queues `durable` with the current group. With no write in flight or waiting, the group is
  // written (one synced write) once `commit_window` has passed since its first commit; commits
  // made meanwhile join it, and what is recorded while it is written goes into the next group.
  // `durable` runs from the executor's completion, never inside commit(). A commit with nothing
  // recorded since the previous one runs right after the previous one's callbacks.
  void commit(std::function<void()> durable) override;
  bool failing() const override { return stats_.failing; }
  JournalStats stats() const override { return stats_; }

  // Calls `fns` for every entry, in key order per kind (packets by item, deliveries by id, replay
  // tags by epoch then tag), and returns the checkpoint (the default one if none was recorded).
  // An entry whose key or value has the wrong length is skipped and counted. The callbacks may
  // call forget() and forget_delivery(). Call once, at start, before any commit; throws
  // std::runtime_error if the database cannot be read.
  JournalCheckpoint recover(const RecoverFns& fns) override;

  // True when no group is being written, waiting for a retry, or waiting for its window.
  bool idle() const;
  // Entries recover() skipped because their key or value had the wrong length.
  std::size_t skipped_entries() const { return skipped_; }

 private:
  struct Group;
  struct Outcome;
  RocksJournal(Options options, Clock& clock, Executor& executor, std::unique_ptr<rocksdb::Env> env,
               std::unique_ptr<rocksdb::DB> db);
  void start_if_due();
  void start_write();
  void write_on_worker(rocksdb::WriteBatch& batch, bool reopen, Outcome& outcome);  // executor
  void written(const Outcome& outcome);

  Options options_;
  Clock& clock_;
  Executor& executor_;
  // The database and its env belong to the worker while a write is in flight (it reopens the
  // database after a failed write), to the loop thread otherwise.
  std::unique_ptr<rocksdb::Env> env_;  // null: the default env
  std::unique_ptr<rocksdb::DB> db_;    // null after a reopen that failed
  bool reopen_ = false;                // the last write failed: reopen before the next one
  std::unique_ptr<Group> current_;     // records and commits not yet being written
  Micros current_first_commit_ = 0;
  std::unique_ptr<Group> written_;     // being written, or failed and waiting for the retry
  std::unique_ptr<Group> spare_;       // an empty group whose batch keeps its buffer, or null
  bool in_flight_ = false;
  std::unique_ptr<Timer> window_timer_;
  std::unique_ptr<Timer> retry_timer_;
  JournalStats stats_;
  std::size_t skipped_ = 0;
  std::unordered_set<uint64_t> timed_;  // items with a release-time entry
};

}  // namespace veil::relay
