// FailingFileSystem: writable files that fail while their file system says so.
#include "failing_file_system.h"

#include <utility>

namespace veil::relay {

namespace {

using rocksdb::IODebugContext;
using rocksdb::IOOptions;
using rocksdb::IOStatus;
using rocksdb::Slice;

class FailingFile final : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  FailingFile(std::unique_ptr<rocksdb::FSWritableFile> target, FailingFileSystem& fs)
      : FSWritableFileOwnerWrapper(std::move(target)), fs_(fs) {}

  IOStatus Append(const Slice& data, const IOOptions& options, IODebugContext* dbg) override {
    if (!fs_.fail) return FSWritableFileOwnerWrapper::Append(data, options, dbg);
    if (fs_.torn && !torn_once_ && data.size() > 1) {
      torn_once_ = true;
      (void)FSWritableFileOwnerWrapper::Append(Slice(data.data(), data.size() / 2), options, dbg);
    }
    return no_space();
  }
  IOStatus Append(const Slice& data, const IOOptions& options,
                  const rocksdb::DataVerificationInfo&, IODebugContext* dbg) override {
    return Append(data, options, dbg);
  }
  IOStatus PositionedAppend(const Slice& data, uint64_t offset, const IOOptions& options,
                            IODebugContext* dbg) override {
    if (fs_.fail) return no_space();
    return FSWritableFileOwnerWrapper::PositionedAppend(data, offset, options, dbg);
  }
  IOStatus PositionedAppend(const Slice& data, uint64_t offset, const IOOptions& options,
                            const rocksdb::DataVerificationInfo&, IODebugContext* dbg) override {
    return PositionedAppend(data, offset, options, dbg);
  }
  IOStatus Flush(const IOOptions& options, IODebugContext* dbg) override {
    if (fs_.fail) return no_space();
    return FSWritableFileOwnerWrapper::Flush(options, dbg);
  }
  IOStatus Sync(const IOOptions& options, IODebugContext* dbg) override {
    if (fs_.fail) return no_space();
    return FSWritableFileOwnerWrapper::Sync(options, dbg);
  }
  IOStatus Fsync(const IOOptions& options, IODebugContext* dbg) override {
    if (fs_.fail) return no_space();
    return FSWritableFileOwnerWrapper::Fsync(options, dbg);
  }
  IOStatus RangeSync(uint64_t offset, uint64_t nbytes, const IOOptions& options,
                     IODebugContext* dbg) override {
    if (fs_.fail) return no_space();
    return FSWritableFileOwnerWrapper::RangeSync(offset, nbytes, options, dbg);
  }

 private:
  IOStatus no_space() {
    ++fs_.failures;
    if (fs_.io_error) return IOStatus::IOError("injected by FailingFileSystem");
    return IOStatus::NoSpace("injected by FailingFileSystem");
  }
  FailingFileSystem& fs_;
  bool torn_once_ = false;
};

}  // namespace

FailingFileSystem::FailingFileSystem(std::shared_ptr<rocksdb::FileSystem> target)
    : FileSystemWrapper(std::move(target)) {}

IOStatus FailingFileSystem::wrap(IOStatus status, std::unique_ptr<rocksdb::FSWritableFile>* file) {
  if (status.ok()) *file = std::make_unique<FailingFile>(std::move(*file), *this);
  return status;
}

IOStatus FailingFileSystem::NewWritableFile(const std::string& name,
                                            const rocksdb::FileOptions& options,
                                            std::unique_ptr<rocksdb::FSWritableFile>* result,
                                            IODebugContext* dbg) {
  return wrap(target()->NewWritableFile(name, options, result, dbg), result);
}

IOStatus FailingFileSystem::ReopenWritableFile(const std::string& name,
                                               const rocksdb::FileOptions& options,
                                               std::unique_ptr<rocksdb::FSWritableFile>* result,
                                               IODebugContext* dbg) {
  return wrap(target()->ReopenWritableFile(name, options, result, dbg), result);
}

IOStatus FailingFileSystem::ReuseWritableFile(const std::string& name,
                                              const std::string& old_name,
                                              const rocksdb::FileOptions& options,
                                              std::unique_ptr<rocksdb::FSWritableFile>* result,
                                              IODebugContext* dbg) {
  return wrap(target()->ReuseWritableFile(name, old_name, options, result, dbg), result);
}

}  // namespace veil::relay
