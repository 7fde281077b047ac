#!/usr/bin/env bash
# Builds the self-contained drift binary: dist/drift-<version>-linux-<arch> and its .sha256.
# Swift runtime static (--static-swift-stdlib, FoundationEssentials only: no ICU), libgit2 and
# everything it needs static from Debian's own archives (libgit2.a, libssh2.a, libmbed*.a,
# libhttp_parser.a, libpcre2-8.a, libz.a, libcrypto.a) plus a GSSAPI stub (scripts/dist/).
# Then checks what it promises: NEEDED only glibc's libraries (+ libstdc++, libgcc_s), no
# GLIBC_ symbol above 2.35, stripped size at most 25 MB. Exit 1 when a check fails.
# A plain `swift build` is untouched: this uses its own scratch dir (.build-dist).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
glibc_max="2.35"
max_bytes=$((25 * 1000 * 1000))
version="$(sed -n 's/.*static let version = "\(.*\)"/\1/p' Sources/DriftCLI/BuildInfo.swift)"
arch="$(uname -m)"
multiarch="$(gcc -print-multiarch 2>/dev/null || echo "$arch-linux-gnu")"
libdir="/usr/lib/$multiarch"
commit="$(git rev-parse HEAD 2>/dev/null || echo unknown)"
if [ "$commit" != unknown ] && [ -n "$(git status --porcelain -- Sources Package.swift 2>/dev/null)" ]; then
  commit="$commit-dirty"
fi
scratch="${DRIFT_DIST_SCRATCH:-$root/.build-dist}"
out="${DRIFT_DIST_DIR:-$root/dist}"
name="drift-$version-linux-$arch"

# The static archives, found by -lgit2/-lcrypto before the shared libraries in $libdir: this
# directory holds only .a files (and the .pc files that point SwiftPM at it). libgit2.a is a linker script that pulls in libgit2's deps
# as one group, so their order does not matter.
static="$scratch/static-libs"
mkdir -p "$static"
for a in libgit2 libssh2 libmbedtls libmbedx509 libmbedcrypto libhttp_parser libpcre2-8 libz libcrypto; do
  [ -f "$libdir/$a.a" ] || { echo "dist: $libdir/$a.a is missing (run scripts/setup.sh)" >&2; exit 2; }
done
"${CC:-clang}" -O2 -fPIC -c scripts/dist/gssapi_stub.c -o "$static/gssapi_stub.o"
ar rcs "$static/libdrift_gssapi_stub.a" "$static/gssapi_stub.o"
printf 'GROUP ( %s )\n' "$libdir/libgit2.a $libdir/libssh2.a $libdir/libmbedtls.a $libdir/libmbedx509.a \
$libdir/libmbedcrypto.a $libdir/libhttp_parser.a $libdir/libpcre2-8.a $libdir/libz.a $libdir/libcrypto.a \
$static/libdrift_gssapi_stub.a" >"$static/libgit2.a"
ln -sf "$libdir/libcrypto.a" "$static/libcrypto.a"
# CLibGit2 links zlib itself (the bake writes zlib streams): -lz must find the archive first.
ln -sf "$libdir/libz.a" "$static/libz.a"
# SwiftPM reads these .pc files (PKG_CONFIG_PATH first) instead of the system's, which would put
# -L$libdir, and with it the shared libraries, ahead of the static directory.
for pc in libgit2 libcrypto; do
  printf 'Name: %s\nDescription: static %s for the drift dist binary\nVersion: 0\nLibs: -L%s -l%s\nCflags:\n' \
    "$pc" "$pc" "$static" "${pc#lib}" >"$static/$pc.pc"
done

# SARIF's informationUri: docs/gate.md at this commit in the repository drift was built from
# ($DRIFT_DOCS_URL wins; nothing when the origin is not a web host drift can name).
docs_url="${DRIFT_DOCS_URL:-}"
origin="$(git config --get remote.origin.url 2>/dev/null || true)"
if [ -z "$docs_url" ] && [ "$commit" != unknown ]; then
  web="$(printf '%s' "$origin" | sed -n -e 's#^git@\([^:/]*\):\(.*\)$#https://\1/\2#p' \
    -e 's#^ssh://git@\([^/:]*\)\(:[0-9]*\)\{0,1\}/\(.*\)$#https://\1/\3#p' \
    -e 's#^https://\([^@/]*@\)\{0,1\}\(.*\)$#https://\2#p' | head -n 1)"
  if [ -n "$web" ]; then
    docs_url="${web%.git}/blob/${commit%-dirty}/docs/gate.md"
  fi
fi
case "$docs_url" in *[\"\\\ ]*) docs_url="" ;; esac

start=$(date +%s)
export PKG_CONFIG_PATH="$static${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
# Each Swift function in a section of its own, so --gc-sections (SwiftPM's) drops the ones nothing
# calls, and lld's identical code folding (`--icf=safe`: only functions whose address is never taken,
# by the objects' address-significance tables): specialisations the compiler emits more than once.
# No run-time cost; docs/image.md, "The size budget".
link=(-Xswiftc -Xfrontend -Xswiftc -function-sections -Xswiftc -use-ld=lld -Xlinker --icf=safe)
swift build -c release --static-swift-stdlib --scratch-path "$scratch" --product drift "${link[@]}" \
  -Xcc "-DDRIFT_GIT_COMMIT=\"$commit\"" -Xcc "-DDRIFT_DOCS_URL=\"$docs_url\"" >&2
built="$(swift build -c release --static-swift-stdlib --scratch-path "$scratch" "${link[@]}" --show-bin-path)/drift"
echo "dist: swift build took $(( $(date +%s) - start )) s" >&2

mkdir -p "$out"
tmp="$out/.$name.tmp"
cp "$built" "$tmp"
strip "$tmp"
mv "$tmp" "$out/$name"
( cd "$out" && sha256sum "$name" >"$name.sha256" )

# The promises.
fail=0
needed="$(readelf -d "$out/$name" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')"
for lib in $needed; do
  case "$lib" in
    libc.so.*|libm.so.*|libdl.so.*|libpthread.so.*|librt.so.*|libutil.so.*|ld-linux*.so.*) ;;
    libstdc++.so.*|libgcc_s.so.*) ;;
    *) echo "dist: $name needs $lib (only glibc, libstdc++ and libgcc_s are allowed)" >&2; fail=1 ;;
  esac
done
highest="$(objdump -T "$out/$name" | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -V | tail -1)"
if [ "$(printf '%s\n%s\n' "$highest" "$glibc_max" | sort -V | tail -1)" != "$glibc_max" ]; then
  echo "dist: $name needs GLIBC_$highest (the floor is $glibc_max)" >&2
  fail=1
fi
size=$(stat -c %s "$out/$name")
if [ "$size" -gt "$max_bytes" ]; then
  echo "dist: $name is $size bytes stripped (the limit is $max_bytes)" >&2
  fail=1
fi
echo "dist: $out/$name: $size bytes, NEEDED: $(echo $needed), highest GLIBC_$highest" >&2
[ "$fail" -eq 0 ] || exit 1
echo "$out/$name"
