#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make install, checked: into a staging DESTDIR with PREFIX=/usr and with
# the default PREFIX, built from scratch (its own BUILDDIR) with CPPFLAGS,
# CFLAGS and LDFLAGS from the environment.  Fails when a file is missing,
# a flag did not reach the compiler or linker, the app is not linked
# against libzcbuf.so.1, or a program cannot be built with the installed
# pkg-config file.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0 n=0
ok() { n=$((n + 1)); echo "ok $n $*"; }
bad() { n=$((n + 1)); echo "not ok $n $*"; fail=$((fail + 1)); }
check() { local what=$1; shift; if "$@" >/dev/null 2>&1; then ok "$what"; else bad "$what"; fi; }

v=$(cat VERSION)
# Markers that must reach every compile and link line (the CFLAGS one is
# recorded in the objects by -frecord-gcc-switches).
export CPPFLAGS="-DZCBUF_CPPFLAGS_MARK"
export CFLAGS="-O1 -g -frecord-gcc-switches -fstack-protector-explicit"
export LDFLAGS="-Wl,-z,now"
# A make that runs us (make -s check-host) must not make ours silent: the
# compile lines are checked.
unset CI MAKEFLAGS MFLAGS MAKELEVEL

d=$tmp/usr
if ! make --no-print-directory install PREFIX=/usr DESTDIR="$d" BUILDDIR="$tmp/build" >"$tmp/log" 2>&1; then
	tail -n 20 "$tmp/log"; bad "make install PREFIX=/usr DESTDIR=..."; exit 1
fi
ok "make install PREFIX=/usr DESTDIR=..."
for f in usr/bin/zcbuf-capture usr/include/zcbuf/libzcbuf.h usr/include/linux/zcbuf.h \
	usr/lib/libzcbuf.a "usr/lib/libzcbuf.so.$v" usr/lib/libzcbuf.so.1 usr/lib/libzcbuf.so \
	usr/lib/pkgconfig/libzcbuf.pc usr/lib/udev/rules.d/60-zcbuf.rules \
	usr/share/man/man1/zcbuf-capture.1 usr/share/man/man3/libzcbuf.3 \
	usr/share/man/man3/zcbuf_open.3 usr/share/man/man3/zcbuf_close.3 usr/share/man/man4/zcbuf.4; do
	check "installed /$f" test -e "$d/$f"
done
check "installed the GStreamer plugin (libgstzcbuf.so)" bash -c "find '$d' -path '*/gstreamer-1.0/libgstzcbuf.so' | grep -q ."
check "-Werror only in CI" bash -c "! grep -q -- -Werror '$tmp/log'"
check "CPPFLAGS reach the compiler" grep -q -- "-DZCBUF_CPPFLAGS_MARK.*-c -o .*capture.o" "$tmp/log"
check "CFLAGS reach the library" bash -c "readelf -p .GCC.command.line '$d/usr/lib/libzcbuf.so.$v' | grep -q stack-protector-explicit"
check "CFLAGS reach the app" bash -c "readelf -p .GCC.command.line '$d/usr/bin/zcbuf-capture' | grep -q stack-protector-explicit"
check "LDFLAGS reach the app's link (BIND_NOW)" bash -c "readelf -d '$d/usr/bin/zcbuf-capture' | grep -q BIND_NOW"
check "LDFLAGS reach the library's link (BIND_NOW)" bash -c "readelf -d '$d/usr/lib/libzcbuf.so.$v' | grep -q BIND_NOW"
check "the app needs libzcbuf.so.1" bash -c "readelf -d '$d/usr/bin/zcbuf-capture' | grep -q 'NEEDED.*libzcbuf.so.1'"
check "soname libzcbuf.so.1" bash -c "readelf -d '$d/usr/lib/libzcbuf.so.$v' | grep -q 'SONAME.*libzcbuf.so.1'"
check "pkg-config version $v" bash -c "PKG_CONFIG_SYSROOT_DIR='$d' PKG_CONFIG_LIBDIR='$d/usr/lib/pkgconfig' pkg-config --modversion libzcbuf | grep -qx '$v'"
check "a program builds with the installed pkg-config file" bash -c "cc userlib/examples/capture-min.c -o '$tmp/cm' \$(PKG_CONFIG_SYSROOT_DIR='$d' PKG_CONFIG_LIBDIR='$d/usr/lib/pkgconfig' pkg-config --cflags --libs libzcbuf)"
check "the installed app runs on the installed library" bash -c "LD_LIBRARY_PATH='$d/usr/lib' '$d/usr/bin/zcbuf-capture' --version | grep -qx 'zcbuf-capture $v'"
check ".so man pages point at a page that is there" bash -c "cd '$d/usr/share/man' && for f in man3/*.3; do l=\$(sed -n 's/^\.so //p' \$f); [ -z \"\$l\" ] || [ -f \"\$l\" ] || exit 1; done"

# The default PREFIX: /usr/local, the udev rule where udev reads it.
d=$tmp/local
if make --no-print-directory install DESTDIR="$d" BUILDDIR="$tmp/build" >"$tmp/log2" 2>&1; then
	check "PREFIX=/usr/local: /usr/local/bin/zcbuf-capture" test -x "$d/usr/local/bin/zcbuf-capture"
	check "PREFIX=/usr/local: udev rule in /etc/udev/rules.d" test -f "$d/etc/udev/rules.d/60-zcbuf.rules"
	check "PREFIX=/usr/local: man pages in /usr/local/share/man" test -f "$d/usr/local/share/man/man4/zcbuf.4"
else
	tail -n 20 "$tmp/log2"; bad "make install (default PREFIX)"
fi
echo "# install: $n checks, $fail failed"
[ "$fail" = 0 ]
