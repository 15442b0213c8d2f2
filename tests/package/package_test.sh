#!/usr/bin/env bash
# The Debian package: cpack -G DEB builds it from the build tree; its dependencies were computed;
# it holds the binaries, the default config, the systemd unit (which systemd-analyze verifies),
# the man page and the dashboard; unpacked into a temporary root, the packaged veil-relay says its
# version, and the packaged example config, pointed at a network made with the packaged veil CLI,
# passes the packaged veil-relay's --check.
#   tests/package/package_test.sh BUILD_DIR VERSION
set -euo pipefail
build=$(readlink -f "$1")
version=$2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/veil-package.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail() { echo "package test: $*" >&2; exit 1; }

(cd "$build" && cpack -G DEB -B "$tmp/out" >"$tmp/cpack.log" 2>&1) || { cat "$tmp/cpack.log"; fail "cpack failed"; }
deb=$(ls "$tmp"/out/veil-relay_"$version"_*.deb 2>/dev/null | head -1)
[ -n "$deb" ] || fail "no veil-relay_${version}_*.deb in $(ls "$tmp/out")"

# Dependencies computed from the binaries (dpkg-shlibdeps), plus adduser for the system user.
depends=$(dpkg-deb -f "$deb" Depends)
for lib in libmicrohttpd12 librocksdb7.8 libssl3 libsystemd0 libuv1 libsodium23 libspdlog1.10 adduser; do
  grep -q "$lib" <<<"$depends" || fail "Depends lacks $lib: $depends"
done
dpkg-deb -f "$deb" Package | grep -qx veil-relay || fail "package name"

root="$tmp/root"
dpkg-deb -x "$deb" "$root"
dpkg-deb -e "$deb" "$tmp/control"
for f in usr/bin/veil-relay usr/bin/veil etc/veil/relay.toml usr/lib/systemd/system/veil-relay.service \
         usr/share/man/man1/veil-relay.1 usr/share/veil-relay/grafana/veil-relay.json \
         usr/share/doc/veil-relay/README.md usr/share/doc/veil-relay/metrics.md; do
  [ -e "$root/$f" ] || fail "the package lacks /$f"
done
grep -qx /etc/veil/relay.toml "$tmp/control/conffiles" || fail "/etc/veil/relay.toml is not a conffile"
[ -x "$tmp/control/postinst" ] || fail "no postinst (the veil system user)"
mode=$(dpkg-deb -c "$deb" | awk '$6 == "./etc/veil/relay.toml" {print $1}')
[ "$mode" = "-rw-r-----" ] || fail "/etc/veil/relay.toml has mode $mode (it holds access keys: -rw-r-----)"

# The packaged binary.
"$root/usr/bin/veil-relay" --version | grep -qx "veil-relay $version" || fail "--version: $("$root/usr/bin/veil-relay" --version)"
# The man page names every option --help lists.
for opt in $("$root/usr/bin/veil-relay" --help | grep -oE -- '--[a-z-]+' | sort -u); do
  grep -q -- "${opt//-/\\\\-}" "$root/usr/share/man/man1/veil-relay.1" || fail "the man page lacks $opt"
done

# The packaged example config, pointed at a network made with the packaged CLI: --check passes.
veil="$root/usr/bin/veil"
net="$tmp/net"
mkdir -p "$net" && chmod 700 "$net"
genesis=$(( $(date +%s) / 3600 * 3600 ))
for r in relay-alpha:alpha.example:7401 mix-1::7411 relay-beta:beta.example:7421; do
  IFS=: read -r name provider port <<<"$r"
  "$veil" relay-keys init "$net/$name.keys" --name "$name" >/dev/null
  args=(--address "127.0.0.1:$port" --genesis "$genesis" --epoch-length 3600 --epochs 48 -o "$net/$name.descriptor")
  [ -n "$provider" ] && args+=(--provider "$provider")
  "$veil" relay-keys descriptor "$net/$name.keys" "${args[@]}"
done
"$veil" directory keygen -o "$net/auth.priv" --public "$net/auth.pub" >/dev/null
"$veil" directory sign --key "$net/auth.priv" "$net"/relay-alpha.descriptor "$net"/mix-1.descriptor \
  "$net"/relay-beta.descriptor --network example --serial 1 --genesis "$genesis" --epoch-length 3600 \
  --valid-for 86400 -o "$net/directory.json"
authority=$(grep -oE '[0-9a-f]{64}' "$net/auth.pub" | head -1)
config="$net/relay.toml"
sed -e "s|^key_dir = .*|key_dir = \"$net/relay-alpha.keys\"|" \
    -e "s|^directory_file = .*|directory_file = \"$net/directory.json\"|" \
    -e "s|^journal_dir = .*|journal_dir = \"$net/journal\"|" \
    -e "s|^metrics_file = .*|metrics_file = \"$net/metrics.json\"|" \
    -e "s|\"0000000000000000000000000000000000000000000000000000000000000000\"|\"$authority\"|" \
    "$root/etc/veil/relay.toml" >"$config"
out=$("$root/usr/bin/veil-relay" --check --config "$config" 2>&1) || fail "--check of the packaged config: $out"
grep -q "config ok" <<<"$out" || fail "--check said: $out"

# The systemd unit, verified in a root holding the package and the host's systemd units.
vroot="$tmp/vroot"
mkdir -p "$vroot/usr/lib/systemd" "$vroot/usr/bin" "$vroot/etc"
cp -a "$root/." "$vroot/"
cp -a /usr/lib/systemd/system "$vroot/usr/lib/systemd/"
cp /usr/bin/kill "$vroot/usr/bin/kill"
ln -sfn usr/bin "$vroot/bin"
verify=$(MANPATH="$vroot/usr/share/man" systemd-analyze verify --root="$vroot" \
           /usr/lib/systemd/system/veil-relay.service 2>&1) || fail "systemd-analyze verify: $verify"
[ -z "$verify" ] || fail "systemd-analyze verify: $verify"
echo "package test: $(basename "$deb") ok ($(du -h "$deb" | cut -f1)); Depends: $depends"
