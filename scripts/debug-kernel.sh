#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build, once, a 6.12 kernel with KASAN, lockdep, DMA-API debug, kmemleak and
# fault injection from Debian's linux-source-6.12 and debug/debug.config.
# The result is cached outside the repository and reused:
#
#   $ZCBUF_CACHE/debug-kernel/<key>/linux/         the built tree (KDIR)
#   $ZCBUF_CACHE/debug-kernel/<key>/modroot/       stripped modules (vivid, vgem)
#   $ZCBUF_CACHE/debug-kernel/current -> <key>
#
# <key> hashes the source package version, the fragment and gcc's version.
# On 2 cores the build takes 25-45 minutes and about 3 GB; it runs at nice 19.
# Prints the tree's path (KDIR) on success.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
CACHE=${ZCBUF_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/zcbuf}
# Downloaded (not installed) by scripts/setup.sh.
SRC_TAR=$CACHE/src/usr/src/linux-source-6.12.tar.xz
FRAG=$top/debug/debug.config

log() { echo "debug-kernel: $*" >&2; }
die() { log "error: $*"; exit 1; }

[ -r "$SRC_TAR" ] || die "$SRC_TAR missing (run scripts/setup.sh)"
srcver=$(cat "$CACHE/src/version")
key=$( { echo "$srcver"; cat "$FRAG"; gcc --version | head -n1; } | sha256sum | cut -c1-16)
dir=$CACHE/debug-kernel/$key
tree=$dir/linux

if [ -f "$dir/done" ]; then
	ln -sfn "$key" "$CACHE/debug-kernel/current"
	echo "$tree"
	exit 0
fi

mkdir -p "$dir"
exec 9>"$dir/lock"
flock 9
if [ ! -d "$tree" ]; then
	log "extracting $SRC_TAR"
	rm -rf "$dir/tmp" && mkdir -p "$dir/tmp"
	tar -xJf "$SRC_TAR" -C "$dir/tmp"
	mv "$dir"/tmp/linux-source-6.12 "$tree"
	rmdir "$dir/tmp"
fi

cd "$tree"
log "configuring (x86_64_defconfig + kvm_guest.config + debug/debug.config)"
make -s x86_64_defconfig
make -s kvm_guest.config
scripts/kconfig/merge_config.sh -m .config "$FRAG" >/dev/null
make -s olddefconfig

# Every option must have stuck.
bad=0
while IFS= read -r line; do
	case "$line" in
	CONFIG_*=n) opt=${line%=n}
		grep -qx "# $opt is not set" .config || grep -qx "$opt=n" .config ||
			! grep -q "^$opt=" .config || { log "$opt did not stay off"; bad=1; } ;;
	CONFIG_*=*) grep -qx "$line" .config || { log "$line did not stick"; bad=1; } ;;
	esac
done < "$FRAG"
[ $bad = 0 ] || die "config fragment did not apply"

log "building bzImage and modules (nice 19, -j$(nproc)); this takes a while"
start=$(date +%s)
nice -n 19 make -s -j"$(nproc)" bzImage modules
log "built in $(( $(date +%s) - start )) s"

rm -rf "$dir/modroot"
make -s INSTALL_MOD_PATH="$dir/modroot" INSTALL_MOD_STRIP=1 modules_install
touch "$dir/done"
ln -sfn "$key" "$CACHE/debug-kernel/current"
log "ready: $tree ($(du -sh "$tree" | cut -f1))"
echo "$tree"
