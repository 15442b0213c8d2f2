// Where a synced RocksDB write of a journal-shaped group spends its time (RocksDB PerfContext and
// IOStatsContext): groups of G puts of 4,120-byte values (a 4 KiB packet with its next hop and
// release time) under 9-byte keys, plus deletions of the previous group's keys, one synced write
// each, with the journal's options (no compression; vector memtable unless --skiplist). First,
// the speed of RocksDB's CRC32C (its WAL checksums every record) against the crc32 instruction.
//
//   g++ -O2 -std=c++20 rocksdb_group_probe.cpp -o probe $(pkg-config --cflags --libs rocksdb)
//   mkdir /tmp/probe-db && taskset -c 1 ./probe /tmp/probe-db 3200 100 [--skiplist]
#include <rocksdb/db.h>
#include <rocksdb/iostats_context.h>
#include <rocksdb/memtablerep.h>
#include <rocksdb/options.h>
#include <rocksdb/perf_context.h>
#include <rocksdb/write_batch.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include <nmmintrin.h>

#include <vector>

namespace rocksdb::crc32c {
// Exported by librocksdb, not in its public headers.
std::string IsFastCrc32Supported();
uint32_t Extend(uint32_t init_crc, const char* data, size_t n);
}  // namespace rocksdb::crc32c

namespace {

std::string key(uint64_t id) {
  std::string s(9, 'p');
  for (int i = 8; i >= 1; --i, id >>= 8) s[static_cast<std::size_t>(i)] = static_cast<char>(id & 0xff);
  return s;
}

double since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
}

// CRC32C with the SSE4.2 instruction, one stream of 8-byte steps (no interleaving).
__attribute__((target("sse4.2"), noinline)) uint32_t crc32c_instruction(const std::vector<uint64_t>& words) {
  uint64_t c = 0;
  for (uint64_t w : words) c = _mm_crc32_u64(c, w);
  return static_cast<uint32_t>(c);
}

void crc_speeds() {
  std::vector<uint64_t> words((16 << 20) / 8);
  for (auto& w : words) w = (static_cast<uint64_t>(std::rand()) << 32) ^ static_cast<uint64_t>(std::rand());
  const auto* bytes = reinterpret_cast<const char*>(words.data());
  const double mb = 16 * 1.048576;
  uint32_t sink = 0;
  auto t = std::chrono::steady_clock::now();
  for (int r = 0; r < 4; ++r) sink ^= rocksdb::crc32c::Extend(sink, bytes, words.size() * 8);
  const double software = 4 * mb / since(t) * 1e3;
  t = std::chrono::steady_clock::now();
  for (int r = 0; r < 4; ++r) {
    words[static_cast<std::size_t>(r)] ^= sink;  // a different input each time
    sink ^= crc32c_instruction(words);
  }
  const double instruction = 4 * mb / since(t) * 1e3;
  std::printf("RocksDB fast crc32c: %s; rocksdb::crc32c::Extend %.0f MB/s; crc32 instruction %.0f MB/s (%u)\n",
              rocksdb::crc32c::IsFastCrc32Supported().c_str(), software, instruction, sink);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: probe DIR GROUP_SIZE GROUPS [--skiplist]\n");
    return 2;
  }
  const std::string dir = argv[1];
  const int group = std::atoi(argv[2]);
  const int groups = std::atoi(argv[3]);
  const bool skiplist = argc > 4 && std::strcmp(argv[4], "--skiplist") == 0;
  crc_speeds();
  rocksdb::Options o;
  o.create_if_missing = true;
  o.compression = rocksdb::kNoCompression;
  o.bottommost_compression = rocksdb::kNoCompression;
  o.info_log_level = rocksdb::WARN_LEVEL;
  o.stats_dump_period_sec = 0;
  if (!skiplist) {
    o.memtable_factory = std::make_shared<rocksdb::VectorRepFactory>();
    o.allow_concurrent_memtable_write = false;
  }
  rocksdb::DB* db = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(o, dir, &db);
  if (!s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    return 1;
  }
  std::string value(4096 + 24, '\0');
  for (auto& c : value) c = static_cast<char>(std::rand());
  rocksdb::SetPerfLevel(rocksdb::PerfLevel::kEnableTimeExceptForMutex);
  rocksdb::WriteOptions sync;
  sync.sync = true;
  rocksdb::WriteBatch batch;  // reused, as the journal does
  uint64_t next = 1;
  double build_ms = 0, write_ms = 0, wal_ms = 0, wal_write_ms = 0, fsync_ms = 0, memtable_ms = 0;
  const int warmup = 3;
  for (int g = 0; g < groups; ++g) {
    const auto b0 = std::chrono::steady_clock::now();
    batch.Clear();
    for (int i = 0; i < group; ++i) batch.Put(key(next + static_cast<uint64_t>(i)), value);
    if (g > 0)
      for (int i = 0; i < group; ++i) batch.Delete(key(next - static_cast<uint64_t>(group) + static_cast<uint64_t>(i)));
    next += static_cast<uint64_t>(group);
    const double built = since(b0);
    rocksdb::get_perf_context()->Reset();
    rocksdb::get_iostats_context()->Reset();
    const auto w0 = std::chrono::steady_clock::now();
    s = db->Write(sync, &batch);
    const double wrote = since(w0);
    if (!s.ok()) {
      std::fprintf(stderr, "%s\n", s.ToString().c_str());
      return 1;
    }
    if (g < warmup) continue;
    build_ms += built;
    write_ms += wrote;
    wal_ms += static_cast<double>(rocksdb::get_perf_context()->write_wal_time) / 1e6;
    memtable_ms += static_cast<double>(rocksdb::get_perf_context()->write_memtable_time) / 1e6;
    wal_write_ms += static_cast<double>(rocksdb::get_iostats_context()->write_nanos) / 1e6;
    fsync_ms += static_cast<double>(rocksdb::get_iostats_context()->fsync_nanos) / 1e6;
  }
  const double n = groups - warmup;
  std::printf("%s memtable, groups of %d, %d groups: building the batch %.2f ms, synced write %.2f ms "
              "(%.2f us per message) = WAL %.2f ms (of which write() %.2f, fdatasync %.2f) + "
              "memtable %.2f ms + the rest\n",
              skiplist ? "skip-list" : "vector", group, groups - warmup, build_ms / n, write_ms / n,
              write_ms / n / group * 1e3, wal_ms / n, wal_write_ms / n, fsync_ms / n, memtable_ms / n);
  delete db;
  return 0;
}
