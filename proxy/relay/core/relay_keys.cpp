// The relay key directory on disk: owner-only checks, atomic no-replace writes, wiping.
#include "proxy/relay/core/relay_keys.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>

#include "proxy/relay/core/descriptor.h"

namespace veil::relay {
namespace {

constexpr std::size_t kMaxSmallFile = 4096;

Error refuse(std::string* detail, Error e, const std::string& why) {
  if (detail != nullptr) *detail = why;
  return e;
}

std::string mode_text(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

std::string epochs_dir(const std::string& dir) { return dir + "/epochs"; }
std::string epoch_path(const std::string& dir, uint64_t epoch) {
  return epochs_dir(dir) + "/" + std::to_string(epoch) + ".priv";
}

// Ownership and mode of a file or directory already stat'ed; `label` names it in the message.
Error check_owner_only(const struct stat& st, const std::string& label, bool directory,
                       std::string* detail) {
  if (st.st_uid != ::geteuid()) {
    return refuse(detail, Error::insecure_permissions,
                  label + ": must be owned by the user running the relay");
  }
  if ((st.st_mode & 077) != 0) {
    return refuse(detail, Error::insecure_permissions,
                  label + (directory ? ": must be accessible by its owner only (chmod 700); it is "
                                     : ": must be readable by its owner only (chmod 600); it is ") +
                      mode_text(st.st_mode));
  }
  return Error::ok;
}

// A directory of the layout (`dir` itself or epochs/): exists, is a directory (not a link to
// one), owner only.
Error check_directory(const std::string& path, const std::string& label, std::string* detail) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    return refuse(detail, Error::io_error, label + ": " + std::strerror(errno));
  }
  if (!S_ISDIR(st.st_mode)) return refuse(detail, Error::io_error, label + ": not a directory");
  return check_owner_only(st, label, true, detail);
}

// The whole content of the owner-only regular file `path` (at most kMaxSmallFile bytes).
Result<Bytes> read_private_file(const std::string& path, std::string* detail) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    return refuse(detail, Error::io_error,
                  path + ": " + (errno == ELOOP ? std::string("a symbolic link, not a file")
                                                : std::string(std::strerror(errno))));
  }
  struct stat st {};
  Bytes out;
  Error e = Error::ok;
  if (::fstat(fd, &st) != 0) {
    e = refuse(detail, Error::io_error, path + ": " + std::strerror(errno));
  } else if (!S_ISREG(st.st_mode)) {
    e = refuse(detail, Error::io_error, path + ": not a regular file");
  } else if (e = check_owner_only(st, path, false, detail); e == Error::ok) {
    if (st.st_size > static_cast<off_t>(kMaxSmallFile)) {
      e = refuse(detail, Error::malformed, path + ": larger than expected");
    } else {
      out.resize(static_cast<std::size_t>(st.st_size));
      std::size_t done = 0;
      while (done < out.size()) {
        const ssize_t n = ::read(fd, out.data() + done, out.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
          e = refuse(detail, Error::io_error, path + ": cannot read");
          break;
        }
        done += static_cast<std::size_t>(n);
      }
    }
  }
  ::close(fd);
  if (e != Error::ok) {
    wipe(out);
    return e;
  }
  return out;
}

Error write_all(int fd, ByteView data) {
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Error::io_error;
    done += static_cast<std::size_t>(n);
  }
  return Error::ok;
}

Error sync_directory(const std::string& path, std::string* detail) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return refuse(detail, Error::io_error, path + ": " + std::strerror(errno));
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return refuse(detail, Error::io_error, path + ": cannot sync");
  return Error::ok;
}

// Writes `data` to `path` (mode 0600) through a temporary file linked into place, so that a
// reader sees the whole file or none, and an existing `path` is never replaced:
// `already_exists` then.
Error write_private_file(const std::string& path, ByteView data, std::string* detail) {
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0 && errno == EEXIST) {  // left behind by an interrupted write
    ::unlink(tmp.c_str());
    fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  }
  if (fd < 0) return refuse(detail, Error::io_error, tmp + ": cannot create: " + std::strerror(errno));
  const bool written = ::fchmod(fd, 0600) == 0 && write_all(fd, data) == Error::ok && ::fsync(fd) == 0;
  const bool closed = ::close(fd) == 0;
  if (!written || !closed) {
    ::unlink(tmp.c_str());
    return refuse(detail, Error::io_error, tmp + ": cannot write");
  }
  const int linked = ::link(tmp.c_str(), path.c_str());
  const int link_errno = errno;
  ::unlink(tmp.c_str());
  if (linked != 0) {
    return refuse(detail, link_errno == EEXIST ? Error::already_exists : Error::io_error,
                  path + ": " + std::strerror(link_errno));
  }
  const auto slash = path.rfind('/');
  return sync_directory(slash == std::string::npos ? "." : path.substr(0, slash), detail);
}

std::string dir_label(const std::string& dir) { return "relay key directory " + dir; }

// The layout's directories and format file, before any key is read or written.
Error check_layout(const std::string& dir, std::string* detail) {
  if (Error e = check_directory(dir, dir_label(dir), detail); e != Error::ok) return e;
  auto format = read_private_file(dir + "/format", detail);
  if (!format) return format.error();
  const std::string want = std::string(kRelayKeysFormat) + "\n";
  if (std::string(format->begin(), format->end()) != want) {
    return refuse(detail, Error::unknown_version,
                  dir + "/format: not \"" + std::string(kRelayKeysFormat) + "\"");
  }
  return check_directory(epochs_dir(dir), epochs_dir(dir), detail);
}

Result<crypto::KeyPair> read_epoch_key(const std::string& dir, uint64_t epoch, std::string* detail) {
  const std::string path = epoch_path(dir, epoch);
  auto raw = read_private_file(path, detail);
  if (!raw) return raw.error();
  auto key = crypto::PrivateKey::parse(*raw);
  wipe(*raw);
  if (!key) return refuse(detail, Error::malformed, path + ": not a 32-byte private key");
  return crypto::KeyPair::from_private(std::move(*key));
}

// The epoch number of a file name "<N>.priv" (N decimal, no leading zeros), or nullopt.
std::optional<uint64_t> epoch_of(std::string_view file) {
  constexpr std::string_view kSuffix = ".priv";
  if (!file.ends_with(kSuffix)) return std::nullopt;
  const std::string_view digits = file.substr(0, file.size() - kSuffix.size());
  if (digits.empty() || (digits.size() > 1 && digits[0] == '0')) return std::nullopt;
  uint64_t n = 0;
  const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (ec != std::errc() || ptr != digits.data() + digits.size()) return std::nullopt;
  return n;
}

}  // namespace

Error init_relay_keys(const std::string& dir, std::string_view name, Rng& rng, std::string* detail) {
  if (!valid_name(name)) {
    return refuse(detail, Error::malformed,
                  "name: must be 1..255 bytes of UTF-8 without control characters");
  }
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0) {
    if (errno != ENOENT) return refuse(detail, Error::io_error, dir_label(dir) + ": " + std::strerror(errno));
    if (::mkdir(dir.c_str(), 0700) != 0) {
      return refuse(detail, Error::io_error,
                    dir_label(dir) + (errno == ENOENT
                                          ? std::string(": cannot create: its parent directory does not exist")
                                          : std::string(": cannot create: ") + std::strerror(errno)));
    }
  }
  if (Error e = check_directory(dir, dir_label(dir), detail); e != Error::ok) return e;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return refuse(detail, Error::io_error, dir_label(dir) + ": " + std::strerror(errno));
  bool empty = true;
  while (const dirent* e = ::readdir(d)) {
    const std::string_view n = e->d_name;
    if (n != "." && n != "..") empty = false;
  }
  ::closedir(d);
  if (!empty) {
    return refuse(detail, Error::already_exists,
                  dir_label(dir) + ": not empty (it may already hold a relay's keys)");
  }
  if (::mkdir(epochs_dir(dir).c_str(), 0700) != 0) {
    return refuse(detail, Error::io_error, epochs_dir(dir) + ": cannot create: " + std::strerror(errno));
  }
  const std::string name_line = std::string(name) + "\n";
  if (Error e = write_private_file(dir + "/name", as_bytes(name_line), detail); e != Error::ok) return e;
  const crypto::IdentityKey identity = crypto::IdentityKey::generate(rng);
  if (Error e = write_private_file(dir + "/identity.seed", identity.seed(), detail); e != Error::ok) {
    return e;
  }
  const std::string format = std::string(kRelayKeysFormat) + "\n";
  return write_private_file(dir + "/format", as_bytes(format), detail);
}

Result<RelayIdentity> load_relay_identity(const std::string& dir, std::string* detail) {
  if (Error e = check_layout(dir, detail); e != Error::ok) return e;
  auto name = read_private_file(dir + "/name", detail);
  if (!name) return name.error();
  std::string text(name->begin(), name->end());
  if (text.ends_with('\n')) text.pop_back();
  if (!valid_name(text)) {
    return refuse(detail, Error::malformed,
                  dir + "/name: not 1..255 bytes of UTF-8 without control characters");
  }
  auto seed = read_private_file(dir + "/identity.seed", detail);
  if (!seed) return seed.error();
  auto key = crypto::IdentityKey::from_seed(*seed);
  wipe(*seed);
  if (!key) return refuse(detail, Error::malformed, dir + "/identity.seed: not a 32-byte seed");
  return RelayIdentity{std::move(text), std::move(*key)};
}

Result<crypto::KeyPair> load_epoch_key(const std::string& dir, uint64_t epoch, std::string* detail) {
  if (Error e = check_layout(dir, detail); e != Error::ok) return e;
  return read_epoch_key(dir, epoch, detail);
}

Result<crypto::KeyPair> load_or_create_epoch_key(const std::string& dir, uint64_t epoch, Rng& rng,
                                                 std::string* detail) {
  if (Error e = check_layout(dir, detail); e != Error::ok) return e;
  const std::string path = epoch_path(dir, epoch);
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0 && errno == ENOENT) {
    const crypto::PrivateKey key = crypto::PrivateKey::generate(rng);
    const Error e = write_private_file(path, key.raw(), detail);
    // Another writer may have created it first: its key stands.
    if (e != Error::ok && e != Error::already_exists) return e;
  }
  return read_epoch_key(dir, epoch, detail);
}

Error store_epoch_key(const std::string& dir, uint64_t epoch, const crypto::PrivateKey& key,
                      std::string* detail) {
  if (Error e = check_layout(dir, detail); e != Error::ok) return e;
  return write_private_file(epoch_path(dir, epoch), key.raw(), detail);
}

Error ensure_epoch_keys(const std::string& dir, uint64_t from, uint64_t to, Rng& rng,
                        std::string* detail) {
  if (to < from || to - from > kMaxEpochKeysPerCall) {
    return refuse(detail, Error::invalid_argument,
                  "epochs " + std::to_string(from) + ".." + std::to_string(to) +
                      ": at most " + std::to_string(kMaxEpochKeysPerCall) + " at once");
  }
  for (uint64_t n = from; n < to; ++n) {
    auto k = load_or_create_epoch_key(dir, n, rng, detail);
    if (!k) return k.error();
  }
  return Error::ok;
}

Result<std::vector<uint64_t>> list_epoch_keys(const std::string& dir, std::string* detail) {
  if (Error e = check_layout(dir, detail); e != Error::ok) return e;
  DIR* d = ::opendir(epochs_dir(dir).c_str());
  if (d == nullptr) return refuse(detail, Error::io_error, epochs_dir(dir) + ": " + std::strerror(errno));
  std::vector<uint64_t> out;
  while (const dirent* e = ::readdir(d)) {
    if (auto n = epoch_of(e->d_name)) out.push_back(*n);
  }
  ::closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

Result<std::size_t> wipe_epoch_keys_before(const std::string& dir, uint64_t epoch, std::string* detail) {
  auto held = list_epoch_keys(dir, detail);
  if (!held) return held.error();
  std::size_t wiped = 0;
  const std::array<uint8_t, crypto::kKeySize> zeros{};
  for (uint64_t n : *held) {
    if (n >= epoch) break;
    const std::string path = epoch_path(dir, n);
    const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return refuse(detail, Error::io_error, path + ": " + std::strerror(errno));
    struct stat st {};
    bool ok = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
    for (off_t at = 0; ok && at < st.st_size; at += static_cast<off_t>(zeros.size())) {
      ok = write_all(fd, zeros) == Error::ok;
    }
    ok = ok && ::fsync(fd) == 0;
    ok = ::close(fd) == 0 && ok;
    if (!ok || ::unlink(path.c_str()) != 0) {
      return refuse(detail, Error::io_error, path + ": cannot overwrite and delete");
    }
    ++wiped;
  }
  if (wiped > 0) {
    if (Error e = sync_directory(epochs_dir(dir), detail); e != Error::ok) return e;
  }
  return wiped;
}

std::optional<crypto::KeyPair> KeyDirEpochKeys::key(uint64_t epoch) {
  std::string detail;
  auto k = load_epoch_key(dir_, epoch, &detail);
  if (!k) {
    problem_ = detail;
    return std::nullopt;
  }
  return std::move(*k);
}

void KeyDirEpochKeys::wipe_before(uint64_t epoch) {
  std::string detail;
  if (!wipe_epoch_keys_before(dir_, epoch, &detail)) problem_ = detail;
}

}  // namespace veil::relay
