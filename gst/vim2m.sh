#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the kernel's vim2m (a virtual V4L2 mem2mem device) and the
# v4l2-mem2mem framework it needs, out of tree, for one kernel: Debian's
# kernels enable neither (CONFIG_VIDEO_VIM2M, CONFIG_V4L2_MEM2MEM_DEV are not
# set), and the GStreamer test of v4l2convert output-io-mode=dmabuf-import
# needs a mem2mem device.  The sources come from the cached linux-source-6.12
# tarball (scripts/setup.sh), extracted once into build/vim2m/src; they build
# for 6.12 only (6.1's and 7.3's V4L2 internals differ).
#
# usage: gst/vim2m.sh KVER OUTDIR   -> OUTDIR/{v4l2-mem2mem,vim2m}.ko
# Exit status 0 when built, 3 when this kernel's series has no matching
# source (the caller then has no vim2m), 1 on a build failure.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
CACHE=${ZCBUF_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/zcbuf}
kver=${1:?usage: $0 KVER OUTDIR}
out=${2:?usage: $0 KVER OUTDIR}
series=6.12
tar=$CACHE/src/usr/src/linux-source-$series.tar.xz

rel=$("$top/scripts/kver.sh" "$kver")
case $rel in
$series.*) ;;
*) echo "vim2m: only $series sources here, not for $rel" >&2; exit 3 ;;
esac
kdir=$(readlink -f "$CACHE/kernels/$rel/build")
[ -d "$kdir" ] || { echo "vim2m: no kernel build tree for $rel" >&2; exit 1; }
[ -r "$tar" ] || { echo "vim2m: $tar missing (scripts/setup.sh)" >&2; exit 1; }

src=$top/build/vim2m/src
stamp=$(stat -c '%s %Y' "$tar")
if [ "$(cat "$src/.stamp" 2>/dev/null)" != "$stamp" ]; then
	rm -rf "$src" "$src.tmp"
	mkdir -p "$src.tmp"
	tar -xJf "$tar" -C "$src.tmp" --strip-components=4 \
		"linux-source-$series/drivers/media/test-drivers/vim2m.c" \
		"linux-source-$series/drivers/media/v4l2-core/v4l2-mem2mem.c"
	echo "$stamp" >"$src.tmp/.stamp"
	mv "$src.tmp" "$src"
fi

b=$top/build/vim2m/$rel
mkdir -p "$b"
ln -sf "$src/vim2m.c" "$src/v4l2-mem2mem.c" "$b/"
echo 'obj-m := v4l2-mem2mem.o vim2m.o' >"$b/Kbuild"
make -s -C "$kdir" M="$b" modules >"$b/build.log" 2>&1 ||
	{ cat "$b/build.log" >&2; echo "vim2m: build for $rel failed" >&2; exit 1; }
mkdir -p "$out"
cp "$b/v4l2-mem2mem.ko" "$b/vim2m.ko" "$out/"
