// File helpers for the CLI.
#include "proxy/cli/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>

namespace veil::cli {

Bytes read_file(const std::string& path) {
  Bytes out;
  if (path == "-") {
    out.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  } else {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw CliError("cannot read " + path);
    out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  if (out.size() > kMaxInputFile) throw CliError(path + ": file larger than 64 MiB");
  return out;
}

void write_file(const std::string& path, ByteView data, bool secret) {
  if (path == "-") {
    std::cout.write(reinterpret_cast<const char*>(data.data()),
                    static_cast<std::streamsize>(data.size()));
    std::cout.flush();
    return;
  }
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                        secret ? 0600 : 0644);
  if (fd < 0) throw CliError("cannot write " + path);
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n <= 0) {
      ::close(fd);
      throw CliError("cannot write " + path);
    }
    done += static_cast<std::size_t>(n);
  }
  if (::close(fd) != 0) throw CliError("cannot write " + path);
}

crypto::PrivateKey read_private_key(const std::string& path) {
  Bytes b = read_file(path);
  auto k = crypto::PrivateKey::parse(b);
  wipe(b);
  if (!k) throw CliError(path + ": not a private key (expected 32 bytes)");
  return std::move(*k);
}

crypto::PublicKey read_public_key(const std::string& path) {
  auto k = crypto::PublicKey::parse(read_file(path));
  if (!k) throw CliError(path + ": not a public key (expected 0x05 followed by 32 bytes)");
  return *k;
}

crypto::ServerCertificate read_server_certificate(const std::string& path) {
  auto c = crypto::ServerCertificate::parse(read_file(path));
  if (!c) fail(path + ": not a server certificate", c.error());
  return std::move(*c);
}

crypto::SenderCertificate read_sender_certificate(const std::string& path) {
  auto c = crypto::SenderCertificate::parse(read_file(path));
  if (!c) fail(path + ": not a sender certificate", c.error());
  return std::move(*c);
}

void fail(const std::string& what, Error e) {
  throw CliError(what + ": " + std::string(error_name(e)) + ": " +
                 std::string(error_message(e)));
}

}  // namespace veil::cli
