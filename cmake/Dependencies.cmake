# Finds Veil's Debian-packaged dependencies (scripts/setup.sh installs them) as imported targets.
find_package(PkgConfig REQUIRED)
pkg_check_modules(SODIUM REQUIRED IMPORTED_TARGET libsodium>=1.0.18)
pkg_check_modules(GCRYPT REQUIRED IMPORTED_TARGET libgcrypt>=1.10)
pkg_check_modules(SIGNALC REQUIRED IMPORTED_TARGET libsignal-protocol-c>=2.3)
pkg_check_modules(LIBUV REQUIRED IMPORTED_TARGET libuv>=1.44)
# toml++ (the relay config): Debian ships it compiled (libtomlplusplus.so); its pkg-config flags
# select that build (TOML_HEADER_ONLY=0, TOML_SHARED_LIB=1).
pkg_check_modules(TOMLPLUSPLUS REQUIRED IMPORTED_TARGET tomlplusplus>=3.3)
# RocksDB (the relay's journal, proxy/relay/store/): Debian 12 ships 7.8.
pkg_check_modules(ROCKSDB REQUIRED IMPORTED_TARGET rocksdb>=7.8)
# OpenSSL 3 (TLS 1.3 peer links, proxy/relay/tls/): Debian 12 ships 3.0.
pkg_check_modules(OPENSSL REQUIRED IMPORTED_TARGET openssl>=3.0)
# libmicrohttpd (the relay's admin endpoint, proxy/relay/admin/): Debian 12 ships 0.9.75.
pkg_check_modules(MICROHTTPD REQUIRED IMPORTED_TARGET libmicrohttpd>=0.9.71)
# libsystemd (sd_notify: Type=notify readiness, reload and stop), Debian 12 ships 252.
pkg_check_modules(SYSTEMD REQUIRED IMPORTED_TARGET libsystemd>=247)
# spdlog (veil-relay's JSON logs on stderr): Debian 12 ships 1.10 built against its libfmt.
find_package(spdlog 1.10 REQUIRED)
find_package(Protobuf REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(CLI11 REQUIRED)
if(VEIL_TESTS)
  find_package(Boost 1.74 REQUIRED COMPONENTS unit_test_framework)
endif()
find_package(Threads REQUIRED)
