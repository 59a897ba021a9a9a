#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Gather what a QEMU guest (busybox initramfs, no GStreamer installed) needs
# to run zcbufsrc pipelines, into one directory that scripts/qemu-run.sh
# copies in with -f DIR:/zcbuf/gst:
#
#   bin/       gst-launch-1.0, gst-inspect-1.0
#   libexec/   gst-plugin-scanner (GStreamer loads plugins in it first)
#   plugins/   libgstzcbuf.so and the Debian plugins the tests use
#   lib/       the plugins' shared libraries that no program here needs
#              (qemu-run.sh brings a program's own libraries at their host
#              paths; plugins are dlopen()ed, so it cannot see theirs)
#   tests/     zcbuf-gst-check, zcbuf-gst-test
#   env.sh     sourced in the guest: GST_PLUGIN_SYSTEM_PATH, GST_PLUGIN_SCANNER,
#              GST_REGISTRY, LD_LIBRARY_PATH
#
# usage: gst/guest-bundle.sh OUTDIR   (after make -C gst)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
out=${1:?usage: $0 OUTDIR}
build=${ZCBUF_GST_BUILD:-$top/build/gst}

# Debian's plugins the guest tests need: fakesink/filesink/tee/queue/identity,
# pngenc, multifilesink, v4l2convert (vim2m) and v4l2src (vivid, make bench),
# videoconvert.
PLUGINS="coreelements png multifile video4linux2 videoconvertscale"

gstlib=$(pkg-config --variable=pluginsdir gstreamer-1.0)
scanner=$(pkg-config --variable=pluginscannerdir gstreamer-1.0 2>/dev/null || true)
[ -x "${scanner:-}/gst-plugin-scanner" ] ||
	scanner=$(dirname "$(find /usr/lib -path '*gstreamer-1.0/gst-plugin-scanner' | head -n 1)")
[ -x "$scanner/gst-plugin-scanner" ] || { echo "$0: gst-plugin-scanner not found" >&2; exit 1; }
[ -e "$build/libgstzcbuf.so" ] || { echo "$0: $build/libgstzcbuf.so missing: make -C gst" >&2; exit 1; }

rm -rf "$out"
mkdir -p "$out"/{bin,libexec,plugins,lib,tests}
cp -L /usr/bin/gst-launch-1.0 /usr/bin/gst-inspect-1.0 "$out/bin/"
cp -L "$scanner/gst-plugin-scanner" "$out/libexec/"
cp -L "$build/libgstzcbuf.so" "$out/plugins/"
for p in $PLUGINS; do
	cp -L "$gstlib/libgst$p.so" "$out/plugins/"
done
cp -L "$build"/tests/* "$out/tests/"

deps() { ldd "$@" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// { print $3 }' | sort -u; }
deps "$out"/bin/* "$out"/libexec/* "$out"/tests/* >"$out/.progs"
deps "$out"/plugins/* | comm -23 - "$out/.progs" | while read -r lib; do
	cp -L "$lib" "$out/lib/"
done
rm -f "$out/.progs"

cat >"$out/env.sh" <<'ENV'
# Sourced by the guest tests: GStreamer from this directory only.
GST_DIR=${GST_DIR:-$(cd "$(dirname "${ZCBUF_GST_ENV:-/zcbuf/gst/env.sh}")" && pwd)}
export PATH="$GST_DIR/bin:$GST_DIR/tests:$PATH"
export LD_LIBRARY_PATH="$GST_DIR/lib"
export GST_PLUGIN_SYSTEM_PATH="$GST_DIR/plugins"
export GST_PLUGIN_PATH=
export GST_PLUGIN_SCANNER="$GST_DIR/libexec/gst-plugin-scanner"
export GST_REGISTRY=/tmp/gst-registry.bin
export GST_DEBUG_NO_COLOR=1
export HOME=${HOME:-/root}
ENV
echo "gst guest bundle: $out ($(du -sh "$out" | cut -f1), plugins: $(cd "$out/plugins" && echo *))"
