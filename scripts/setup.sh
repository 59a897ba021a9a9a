#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install what zcbuf needs from Debian's packages and fill the build cache.
# Idempotent: when everything is present it only runs dpkg-query and a few
# stat calls (well under a second).
#
# Cache: ${ZCBUF_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/zcbuf}
#   kselftest/            kselftest*.h from linux-source-6.12
#   checkpatch/           checkpatch.pl + spelling.txt + const_structs.checkpatch
#   clang-format          the kernel's .clang-format
#   vmlinux-<release>     uncompressed ELF of /boot/vmlinuz-<release> (PVH boot)
set -euo pipefail

PKGS=(
	qemu-system-x86 busybox-static
	linux-image-amd64 linux-headers-amd64
	linux-image-6.12-amd64 linux-headers-6.12-amd64 linux-source-6.12
	build-essential gcc-multilib sparse pahole libpng-dev
	cpio xz-utils zstd kmod gnuplot-nox v4l-utils
)

CACHE=${ZCBUF_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/zcbuf}
SRC_TAR=/usr/src/linux-source-6.12.tar.xz
here=$(cd "$(dirname "$0")" && pwd)

die() { echo "setup: error: $*" >&2; exit 1; }
log() { echo "setup: $*" >&2; }

missing_pkgs() {
	local p st
	for p in "${PKGS[@]}"; do
		st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null) || st=
		[ "$st" = installed ] || echo "$p"
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

# The source tarball is 140 MB of xz: decompress it once for every member
# we need, and only when its version changed.
extract_source_bits() {
	local stamp="$CACHE/.source-stamp" want tmp
	[ -r "$SRC_TAR" ] || die "$SRC_TAR missing (package linux-source-6.12)"
	want=$(stat -c '%s %Y' "$SRC_TAR")
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

# /boot/vmlinuz is a bzImage wrapping a compressed ELF (xz on 6.1, zstd on
# 6.12). QEMU boots the bare ELF through its PVH note, which skips the
# real-mode setup and the in-guest decompression (slow under TCG).
extract_vmlinux() {
	local img=$1 out=$2 off tmp
	tmp="$out.tmp.$$"
	for magic in 'xz:\xfd7zXZ\x00' 'zstd:\x28\xb5\x2f\xfd' 'gzip:\x1f\x8b\x08'; do
		local kind=${magic%%:*} pat=${magic#*:}
		for off in $(LC_ALL=C grep -aboP "$pat" "$img" | cut -d: -f1); do
			case $kind in
			xz)   tail -c +$((off + 1)) "$img" | xz -dcq --single-stream >"$tmp" 2>/dev/null ;;
			zstd) tail -c +$((off + 1)) "$img" | zstd -dcq >"$tmp" 2>/dev/null ;;
			gzip) tail -c +$((off + 1)) "$img" | gzip -dcq >"$tmp" 2>/dev/null ;;
			esac
			if [ "$(head -c 4 "$tmp" 2>/dev/null | od -An -tx1 | tr -d ' ')" = 7f454c46 ]; then
				mv "$tmp" "$out"
				return 0
			fi
		done
	done
	rm -f "$tmp"
	return 1
}

# Release strings are globbed, not hard-coded: the 6.1 ABI number moves with
# every Debian point release.
releases() {
	local pat r
	for pat in '6.1.0-*-amd64' '6.12.*-amd64'; do
		r=$(cd /boot && ls -d vmlinuz-$pat 2>/dev/null | sed 's/^vmlinuz-//' | sort -V | tail -n 1)
		[ -n "$r" ] || die "no /boot/vmlinuz-$pat (packages linux-image-amd64 / linux-image-6.12-amd64)"
		[ -d "/lib/modules/$r/build" ] || die "no headers for $r in /lib/modules/$r/build"
		echo "$r"
	done
}

main() {
	local missing
	missing=($(missing_pkgs))
	[ ${#missing[@]} -eq 0 ] || install_pkgs "${missing[@]}"

	mkdir -p "$CACHE"
	extract_source_bits

	local r rels
	rels=$(releases) || exit 1
	for r in $rels; do
		local out="$CACHE/vmlinux-$r"
		[ -s "$out" ] && [ "$out" -nt "/boot/vmlinuz-$r" ] && continue
		log "extracting $out"
		[ -r "/boot/vmlinuz-$r" ] || die "/boot/vmlinuz-$r not readable"
		extract_vmlinux "/boot/vmlinuz-$r" "$out" ||
			die "no compressed ELF found inside /boot/vmlinuz-$r"
	done
}

main "$@"
