#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make demo: build for Debian's 6.12 kernel, boot it under QEMU with QEMU's
# edu PCI device, load zcbuf.ko and both drivers (the simulator, sim0, and
# zcbuf_edu, edu0), list the devices, run the capture app on each (PNG
# snapshots), then one GStreamer pipeline (zcbufsrc ! pngenc !
# multifilesink), and bring the guest's /out (frames, logs) back to
# build/demo/.
#
# The guest has 256 MiB, all of it within edu's 28-bit DMA reach (no IOMMU:
# the simulator needs dma-direct).  edu moves 4 KiB per 100 ms of virtual
# time each way, so its frames are small and few.
#
# Environment: ZCBUF_DEMO_KVER (default 6.12), ZCBUF_DEMO_ARGS (extra
# arguments for zcbuf-capture), ZCBUF_DEMO_TIMEOUT (seconds, default 600).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
cd "$top"

kver=${ZCBUF_DEMO_KVER:-6.12}
timeout_s=${ZCBUF_DEMO_TIMEOUT:-600}
out=build/demo

"$here/setup.sh" "$kver"
rel=$("$here/kver.sh" "$kver")
mkdir -p build
echo "demo: building zcbuf for $rel"
{ make --no-print-directory KVER="$kver" module userlib apps gst &&
  make --no-print-directory -C gst guest; } >build/demo-build.log 2>&1 ||
	{ cat build/demo-build.log; echo "demo: build failed" >&2; exit 1; }

files=(-f "build/$rel/src/kmod/zcbuf.ko:/zcbuf/zcbuf.ko"
	-f "build/$rel/src/kmod/sim/zcbuf_sim.ko:/zcbuf/zcbuf_sim.ko"
	-f "build/$rel/src/kmod/edu/zcbuf_edu.ko:/zcbuf/zcbuf_edu.ko")
edu_args="-d edu0 --width 96 --height 64 --fps 0 --buffers 2 --frames 3 --quiet --png-every 1 --png-dir /out/edu"
# The static build: the guest has no libzcbuf.so, libpng or zlib.
app=build/apps/static/zcbuf-capture
[ -x "$app" ] || app=

# The guest side, run by busybox sh in /zcbuf.
guest='set -e -o pipefail
echo "== insmod zcbuf.ko zcbuf_sim.ko zcbuf_edu.ko"
insmod /zcbuf/zcbuf.ko
insmod /zcbuf/zcbuf_sim.ko
insmod /zcbuf/zcbuf_edu.ko
ls -l /dev/zcbuf
ls /sys/class/zcbuf
echo "== lsmod"
lsmod
'
if [ -n "$app" ]; then
	files+=(-f "$app:/zcbuf/zcbuf-capture")
	guest+="echo \"== zcbuf-capture --list-devices\"
./zcbuf-capture --list-devices 2>&1 | tee /out/devices.txt
echo \"== zcbuf-capture ${ZCBUF_DEMO_ARGS:--d sim0 --frames 60 --png-every 10 --png-dir /out/frames}\"
mkdir -p /out/frames
./zcbuf-capture ${ZCBUF_DEMO_ARGS:--d sim0 --frames 60 --png-every 10 --png-dir /out/frames} 2>&1 | tee /out/capture.log
echo \"== zcbuf-capture $edu_args\"
mkdir -p /out/edu
./zcbuf-capture $edu_args 2>&1 | tee /out/capture-edu.log
grep . /sys/class/zcbuf/*/frames
"
else
	guest+='echo "== the capture app (apps/zcbuf-capture) is not built yet; the module alone:"
grep . /sys/module/zcbuf/parameters/* 2>/dev/null || true
cat /sys/class/misc/zcbuf/dev
'
fi
# The same camera through GStreamer: zcbufsrc (gst/) and Debian's own
# pngenc and multifilesink, with GStreamer brought into the guest.
gst_line='gst-launch-1.0 zcbufsrc num-buffers=10 ! video/x-raw,format=RGB,width=320,height=240,framerate=30/1 ! pngenc ! multifilesink location=/out/gst/frame-%02d.png'
files+=(-f build/gst/guest:/zcbuf/gst)
guest+="echo \"== $gst_line\"
. /zcbuf/gst/env.sh
mkdir -p /out/gst
$gst_line
ls /out/gst
"
guest+='echo "== rmmod zcbuf_edu zcbuf_sim zcbuf"
rmmod zcbuf_edu
rmmod zcbuf_sim
rmmod zcbuf
dmesg | grep -i zcbuf >/out/dmesg-zcbuf.txt || true
'

"$here/qemu-run.sh" -q -k "$kver" -t "$timeout_s" -o "$out" \
	-Q "-m 256M -device edu" "${files[@]}" -- "$guest"
echo
echo "demo: files from the guest are in $top/$out/:"
(cd "$out" && find . -type f | sed 's|^\./||' | sort | head -n 20)
n=$(find "$out" -type f | wc -l)
[ "$n" -le 20 ] || echo "  ... ($n files)"
