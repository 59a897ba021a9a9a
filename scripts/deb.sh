#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make deb: the Debian packages zcbuf-dkms, libzcbuf1, libzcbuf-dev and
# zcbuf-tools, built from this tree with dpkg-buildpackage -us -uc -b, then
# checked with lintian (any error fails).
#
# The tree is copied (git's files, or everything but build/ outside git) to
# build/deb/src and built there, so the packages land in build/deb/ and the
# working tree, its build/ included, is left as it was.
#
# On a machine without them, installs first (apt-get, as root or through
# sudo) dpkg-dev, the build dependencies of debian/control and lintian.
# Nothing else is installed; in particular no kernel or headers package
# (zcbuf-dkms is architecture-independent: the module is built by DKMS on
# the machine that installs the package).
#
# Environment: ZCBUF_DEB_LINTIAN=0 skips lintian.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
cd "$top"
out=build/deb

say() { echo "deb: $*"; }
die() { echo "deb: $*" >&2; exit 1; }

sudo=
if [ "$(id -u)" != 0 ]; then
	if command -v sudo >/dev/null && { sudo -n true 2>/dev/null || [ -t 0 ]; }; then
		sudo=sudo
	fi
fi
apt_install() {
	[ "$(id -u)" = 0 ] || [ -n "$sudo" ] ||
		die "need root to install: $*  (run: sudo apt-get install $*)"
	say "apt-get install $*"
	$sudo apt-get update -q >/dev/null || die "apt-get update failed"
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q \
		--no-install-recommends "$@" || die "apt-get install failed: $*"
}
installed() { [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = installed ]; }

scripts/version.sh check

# dpkg-checkbuilddeps is in dpkg-dev; lintian for the check afterwards.
need=()
installed dpkg-dev || need+=(dpkg-dev)
[ "${ZCBUF_DEB_LINTIAN:-1}" = 0 ] || installed lintian || need+=(lintian)
[ ${#need[@]} -eq 0 ] || apt_install "${need[@]}"
if ! deps=$(dpkg-checkbuilddeps 2>&1); then
	# "dpkg-checkbuilddeps: error: Unmet build dependencies: a (>= 1) b"
	deps=$(echo "$deps" | sed -n 's/.*Unmet build dependencies: //p' |
		sed -e 's/([^)]*)//g' -e 's/|[^ ]*//g')
	# shellcheck disable=SC2086
	apt_install $deps
	dpkg-checkbuilddeps || die "build dependencies still missing"
fi

# A clean copy of the tree.
rm -rf "$out"
mkdir -p "$out/src"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	git ls-files -z --cached --others --exclude-standard |
		(while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done) |
		tar -cf - --null -T - | tar -xf - -C "$out/src"
else
	tar -cf - --exclude=./build --exclude=./.git . | tar -xf - -C "$out/src"
fi

say "dpkg-buildpackage -us -uc -b in $out/src"
(cd "$out/src" && dpkg-buildpackage -us -uc -b) >"$out/build.log" 2>&1 ||
	{ tail -n 40 "$out/build.log"; die "dpkg-buildpackage failed (log: $out/build.log)"; }
rm -rf "$out/src"

changes=$(ls "$out"/zcbuf_*.changes)
if [ "${ZCBUF_DEB_LINTIAN:-1}" != 0 ]; then
	say "lintian $(basename "$changes")"
	lintian --info --display-info --tag-display-limit 0 "$changes" >"$out/lintian.txt" 2>&1 || true
	cat "$out/lintian.txt"
	e=$(grep -c '^E: ' "$out/lintian.txt" || true)
	w=$(grep -c '^W: ' "$out/lintian.txt" || true)
	say "lintian: $e errors, $w warnings (full text: $out/lintian.txt)"
	[ "$e" = 0 ] || die "lintian found errors"
fi
say "packages in $out/:"
(cd "$out" && ls -1 ./*.deb | sed 's|^\./|  |')
