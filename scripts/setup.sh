#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install the tools zcbuf needs from Debian's packages and fill the cache.
# Tools only: the guests' kernels (images, modules, headers) and the kernel
# source are downloaded and unpacked into the cache (scripts/kernels.sh),
# never installed into the host's /boot, /lib/modules or /usr/src.
# Idempotent: when everything is present it only runs dpkg-query and a few
# stat calls (about a second).
#
# usage: scripts/setup.sh [KERNEL...]   (default 6.1 6.12 newest; "none" for
#                                        userland only)
#
# Cache: ${ZCBUF_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/zcbuf}
#   kernels/              Debian kernels for the guests (scripts/kernels.sh)
#   src/                  linux-source-6.12's tarball (downloaded, not installed)
#   kselftest/            kselftest*.h from linux-source-6.12
#   checkpatch/           checkpatch.pl + spelling.txt + const_structs.checkpatch
#   clang-format          the kernel's .clang-format
set -euo pipefail

# What each package is for:
#   qemu-system-x86 busybox-static cpio kmod xz-utils zstd: the guests
#   build-essential gcc-multilib: userland (and -m32 tests); sparse pahole:
#     make sparse; libpng-dev: the capture app's PNG sink
#   flex bison bc libelf-dev libssl-dev python3: building kernel host tools
#     (the newest kernel's, rebuilt for this glibc) and the debug kernel
#   gnuplot-nox: make bench's plot; v4l-utils: v4l2-ctl for the V4L2 tests
#   man-db: make check-host lints the manual pages with man --warnings
#   libgstreamer*-dev: the GStreamer plugin (gst/); gstreamer1.0-tools and
#     -plugins-base/-good: gst-launch-1.0 and the elements the guest tests
#     and make bench run against zcbufsrc (pngenc, multifilesink, v4l2convert,
#     v4l2src, videoconvert)
#   libxdp-dev libbpf-dev: make bench's AF_XDP rows (bench/nicbench.c, linked
#     statically); libxdp1 brings the default XDP program the guest loads
PKGS=(
	qemu-system-x86 busybox-static cpio kmod xz-utils zstd
	build-essential gcc-multilib sparse pahole libpng-dev
	flex bison bc libelf-dev libssl-dev python3
	gnuplot-nox v4l-utils man-db
	libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev gstreamer1.0-tools
	gstreamer1.0-plugins-base gstreamer1.0-plugins-good
	libxdp-dev libbpf-dev
)

CACHE=${ZCBUF_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/zcbuf}
SRC_PKG=linux-source-6.12
SRC_TAR=$CACHE/src/usr/src/linux-source-6.12.tar.xz
here=$(cd "$(dirname "$0")" && pwd)

die() { echo "setup: error: $*" >&2; exit 1; }
log() { echo "setup: $*" >&2; }

missing_pkgs() {
	local installed p
	installed=" $(dpkg-query -W -f='${Package}:${db:Status-Status} ' "${PKGS[@]}" 2>/dev/null |
		tr ' ' '\n' | sed -n 's/:installed$//p' | tr '\n' ' ') "
	for p in "${PKGS[@]}"; do
		case $installed in *" $p "*) ;; *) echo "$p" ;; esac
	done
}

install_pkgs() {
	local missing=("$@") sudo=
	log "missing packages: ${missing[*]}"
	command -v apt-get >/dev/null ||
		die "apt-get not found: zcbuf needs Debian 12 (bookworm) packages; install by hand: ${missing[*]}"
	if [ "$(id -u)" != 0 ]; then
		if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
			sudo=sudo
		elif command -v sudo >/dev/null && [ -t 0 ]; then
			sudo=sudo
		else
			die "need root to install: ${missing[*]}
  run: sudo apt-get update && sudo apt-get install ${missing[*]}"
		fi
	fi
	log "apt-get update"
	$sudo apt-get update -q ||
		die "apt-get update failed (network? sources.list?); packages needed: ${missing[*]}"
	local p bad=()
	for p in "${missing[@]}"; do
		apt-cache show "$p" >/dev/null 2>&1 || bad+=("$p")
	done
	[ ${#bad[@]} -eq 0 ] ||
		die "not available from your apt sources: ${bad[*]}
  (zcbuf targets Debian 12 bookworm; linux-image-6.12-amd64 comes from bookworm's main archive since 12.10 / bookworm-backports)"
	log "apt-get install ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q \
		--no-install-recommends "${missing[@]}" ||
		die "apt-get install failed for: ${missing[*]}"
	missing=($(missing_pkgs))
	[ ${#missing[@]} -eq 0 ] || die "still not installed after apt-get: ${missing[*]}"
}

# linux-source-6.12, downloaded and unpacked (not installed) into the cache:
# the kselftest headers, checkpatch and the debug kernel come from it.
fetch_source() {
	local ver have
	# Ask apt at most once a day.
	[ -r "$SRC_TAR" ] && [ -n "$(find "$CACHE/src/version" -mmin -1440 2>/dev/null)" ] &&
		return 0
	ver=$(apt-cache policy "$SRC_PKG" 2>/dev/null | awk '/Candidate:/ { print $2 }')
	if [ -z "$ver" ] || [ "$ver" = "(none)" ]; then
		apt-get -q update >/dev/null || die "apt-get update failed"
		ver=$(apt-cache policy "$SRC_PKG" | awk '/Candidate:/ { print $2 }')
	fi
	have=$(cat "$CACHE/src/version" 2>/dev/null || true)
	[ -r "$SRC_TAR" ] && [ "$have" = "$ver" ] && { touch "$CACHE/src/version"; return 0; }
	log "downloading $SRC_PKG $ver into $CACHE/src"
	rm -rf "$CACHE/src" "$CACHE/src.tmp"
	mkdir -p "$CACHE/src.tmp"
	(cd "$CACHE/src.tmp" && apt-get -q -o APT::Sandbox::User=root download "$SRC_PKG=$ver" >/dev/null) ||
		die "apt-get download $SRC_PKG failed"
	dpkg-deb -x "$CACHE/src.tmp"/*.deb "$CACHE/src.tmp/root"
	mkdir -p "$CACHE/src"
	mv "$CACHE/src.tmp/root/usr" "$CACHE/src/usr"
	rm -rf "$CACHE/src.tmp"
	echo "$ver" >"$CACHE/src/version"
}

# The source tarball is 140 MB of xz: decompress it once for every member
# we need, and only when its version changed.
extract_source_bits() {
	local stamp="$CACHE/.source-stamp" want tmp
	[ -r "$SRC_TAR" ] || die "$SRC_TAR missing (package $SRC_PKG)"
	want=$(cat "$CACHE/src/version")
	if [ -r "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] &&
	   [ -r "$CACHE/kselftest/kselftest_harness.h" ] &&
	   [ -r "$CACHE/checkpatch/checkpatch.pl" ]; then
		return 0
	fi
	log "extracting kselftest headers and checkpatch from $SRC_TAR"
	tmp=$(mktemp -d "$CACHE/.src.XXXXXX")
	tar -xJf "$SRC_TAR" -C "$tmp" --wildcards --no-wildcards-match-slash \
		'linux-source-6.12/tools/testing/selftests/kselftest*.h' \
		'linux-source-6.12/scripts/checkpatch.pl' \
		'linux-source-6.12/scripts/spelling.txt' \
		'linux-source-6.12/scripts/const_structs.checkpatch' \
		'linux-source-6.12/.clang-format' ||
		{ rm -rf "$tmp"; die "extracting from $SRC_TAR failed"; }
	local s="$tmp/linux-source-6.12"
	rm -rf "$CACHE/kselftest" "$CACHE/checkpatch"
	mkdir -p "$CACHE/kselftest" "$CACHE/checkpatch"
	mv "$s"/tools/testing/selftests/kselftest*.h "$CACHE/kselftest/"
	mv "$s"/scripts/checkpatch.pl "$s"/scripts/spelling.txt \
	   "$s"/scripts/const_structs.checkpatch "$CACHE/checkpatch/"
	mv "$s"/.clang-format "$CACHE/clang-format"
	rm -rf "$tmp"
	echo "$want" >"$stamp"
}

main() {
	local missing
	missing=($(missing_pkgs))
	[ ${#missing[@]} -eq 0 ] || install_pkgs "${missing[@]}"

	mkdir -p "$CACHE"
	exec 7>"$CACHE/.setup.lock"
	flock 7
	fetch_source
	extract_source_bits

	[ "${1:-}" = none ] && return 0
	"$here/kernels.sh" fetch "$@"
}

main "$@"
