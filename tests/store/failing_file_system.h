// A RocksDB file system for fault-injection tests: while `fail` is set, writes fail as on a full disk.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include <rocksdb/file_system.h>

namespace veil::relay {

// Wraps another file system (the default one unless told otherwise). While `fail` is set, Append,
// PositionedAppend, Flush, Sync, Fsync and RangeSync on every writable file opened through it
// return IOStatus::NoSpace (IOStatus::IOError with `io_error` set, as for a failing device);
// reads, file creation and renames are unaffected. With `torn` also set, the first failing Append
// of each file writes the first half of its data before failing, as a write(2) cut short by a
// full disk leaves a torn record behind. The flags may be flipped from any thread at any time.
class FailingFileSystem final : public rocksdb::FileSystemWrapper {
 public:
  explicit FailingFileSystem(
      std::shared_ptr<rocksdb::FileSystem> target = rocksdb::FileSystem::Default());

  static const char* kClassName() { return "VeilFailingFileSystem"; }
  const char* Name() const override { return kClassName(); }

  rocksdb::IOStatus NewWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* result,
                                    rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReopenWritableFile(const std::string& name,
                                       const rocksdb::FileOptions& options,
                                       std::unique_ptr<rocksdb::FSWritableFile>* result,
                                       rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReuseWritableFile(const std::string& name, const std::string& old_name,
                                      const rocksdb::FileOptions& options,
                                      std::unique_ptr<rocksdb::FSWritableFile>* result,
                                      rocksdb::IODebugContext* dbg) override;

  std::atomic<bool> fail{false};
  std::atomic<bool> torn{false};
  std::atomic<bool> io_error{false};
  std::atomic<uint64_t> failures{0};  // operations that failed because `fail` was set

 private:
  rocksdb::IOStatus wrap(rocksdb::IOStatus status, std::unique_ptr<rocksdb::FSWritableFile>* file);
};

}  // namespace veil::relay
