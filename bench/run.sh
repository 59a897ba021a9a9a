#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench: measure zcbuf against the copying read() path and V4L2 (vivid)
# in QEMU guests under `-icount shift=0`, where guest time is an instruction
# count: repeatable on a loaded host.
#
# Per kernel (default "6.12 6.1 newest", newest shown as its major.minor): one boot that runs every row (memcpy,
# frame-size sweep, ring vs eventfd+ioctl, vivid, sync, TCP), one short
# swiotlb=force boot for the sync-cost rows under bouncing, and (6.12 and
# newer) a NIC boot for issue 14's receive rows (bench/nicbench.c).  Every guest
# runs on one CPU (maxcpus=1): with -icount the guest clock is the sum of
# both vCPUs' instructions, so a second busy vCPU (the simulated device's
# thread) would inflate the consumer's thread CPU time.  (Also, 6.1 under
# -icount hangs bringing up its second CPU.)
#
# Writes build/bench/bench.csv, build/bench/table.txt, build/bench/bench.png
# (gnuplot, on the host), build/bench/latency.txt (p50/p99 completion-to-
# consumer latency of every row that has one, or why not) and prints the
# table and one line per target of issues 8, 14 and 15: "target <name>:
# <measured> (goal <goal>) met|MISSED".
#
# usage: bench/run.sh [--report]   (--report: no boots, redo the table, plot
#        and targets from the existing build/bench/bench.csv)
# Environment: ZCBUF_BENCH_KERNELS (default "6.12 6.1 newest"),
#              ZCBUF_BENCH_BOOTS (default "normal swiotlb nic"; a focused
#              run can pick one),
#              ZCBUF_BENCH_NIC_ROWS (the NIC boot's paths, default
#              "zcbuf tpacket recvmmsg afxdp tx"),
#              ZCBUF_BENCH_NIC_SCALE (packets per NIC row, times this; default 1),
#              ZCBUF_BENCH_TIMEOUT (seconds per boot, default 600).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
cd "$top"

kernels=${ZCBUF_BENCH_KERNELS:-6.12 6.1 newest}
timeout_s=${ZCBUF_BENCH_TIMEOUT:-600}
boots=${ZCBUF_BENCH_BOOTS:-normal swiotlb nic}
nic_rows=${ZCBUF_BENCH_NIC_ROWS:-zcbuf tpacket recvmmsg afxdp tx}
nic_scale=${ZCBUF_BENCH_NIC_SCALE:-1}
out=build/bench
bin=$out/bin/zcbench
say() { echo "bench: $*" >&2; }

report_only=0
[ "${1:-}" = --report ] && report_only=1
if [ $report_only = 1 ]; then
	[ -s "$out/bench.csv" ] || { say "--report: no $out/bench.csv"; exit 1; }
	kernels=$(awk -F, 'NR > 1 && !s[$3]++ { printf "%s ", $3 }' "$out/bench.csv")
	csv=$out/bench.csv
else
	# shellcheck disable=SC2086
	scripts/setup.sh $kernels >/dev/null || { say "setup failed"; exit 1; }
	# "newest" is named by its major.minor (7.3) in the table and plot.
	kernels=$(for k in $kernels; do
		case $k in newest) scripts/kver.sh newest | cut -d. -f1,2 ;; *) echo "$k" ;; esac
	done | tr '\n' ' ')
	kernels=${kernels% }
	command -v gnuplot >/dev/null || say "gnuplot missing (apt-get install gnuplot-nox): no plot"

	make --no-print-directory -s -C bench
	# The GStreamer rows: zcbufsrc and the guest's GStreamer (gst/).
	make --no-print-directory -s gst && gst/guest-bundle.sh "$out/gst-guest" >/dev/null
	mkdir -p "$out"
	csv=$out/bench.csv
	rm -f "$csv" "$out"/*.png "$out"/table.txt
	echo "group,row,kernel,boot,bytes,frames,cpu_us,fps,ns_per_byte,note" >"$csv"

	prep='insmod /zcbuf/zcbuf.ko || exit 1
	insmod /zcbuf/zcbuf_sim.ko || exit 1
	[ "$(nproc)" = 1 ] || { echo "bench: want 1 CPU online, have $(nproc)"; exit 1; }
	echo "bench: $(nproc) CPU online, $(uname -r), $(cat /proc/cmdline)"'

	# The NIC boot (issue 14): two virtio-net NICs on one QEMU hub, as in
	# make check's virtio-net boot.  The first stays with the kernel's
	# virtio_net: the peer, where pktgen sends; nicbench gives the second
	# to zcbuf_virtio_net, then to virtio_net for AF_PACKET and AF_XDP.
	vnet_qemu="-netdev hubport,id=n0,hubid=0 -device virtio-net-pci,netdev=n0"
	vnet_qemu+=" -netdev hubport,id=n1,hubid=0"
	vnet_qemu+=" -device virtio-net-pci,netdev=n1,iommu_platform=on,disable-legacy=on"
	bpfobj=/usr/lib/x86_64-linux-gnu/bpf
	nic_boot() {
		local k=$1 rel=$2 ko=$3 dir=$out/guest-$1-nic t
		case $rel in
		6.1.*|6.[0-9].*|6.1[01].*|[1-5].*)
			say "$rel: NIC rows skipped: zcbuf_virtio_net needs premapped virtqueues (6.12 or later; this kernel has neither virtqueue_set_dma_premapped() nor virtqueue_add_inbuf_premapped())"
			return 0 ;;
		esac
		[ -s "$bpfobj/xsk_def_xdp_prog.o" ] ||
			{ say "no $bpfobj/xsk_def_xdp_prog.o (package libxdp1)"; return 1; }
		t=$(date +%s)
		say "$rel (nic boot): $nic_rows"
		scripts/qemu-run.sh -q -i -k "$k" -t "$timeout_s" -a maxcpus=1 -Q "$vnet_qemu" -o "$dir" \
			-m virtio_net -m pktgen \
			-f "$ko:/zcbuf/zcbuf.ko" -f "${ko%/*}/virtio_net/zcbuf_virtio_net.ko:/zcbuf/zcbuf_virtio_net.ko" \
			-f "$out/bin/nicbench:/zcbuf/nicbench" -f "$bpfobj:$bpfobj" -- \
			"insmod /zcbuf/zcbuf.ko || exit 1
	insmod /zcbuf/zcbuf_virtio_net.ko || exit 1
	modprobe virtio_net || exit 1
	modprobe pktgen || exit 1
	[ \"\$(nproc)\" = 1 ] || { echo \"bench: want 1 CPU online, have \$(nproc)\"; exit 1; }
	echo \"bench: \$(nproc) CPU online, \$(uname -r), \$(cat /proc/cmdline)\"
	./nicbench -k $k -b nic -n $nic_scale -o /out/bench.csv $nic_rows" >"$out/guest-$k-nic.log" 2>&1 ||
			{ cat "$out/guest-$k-nic.log"; say "$rel (nic): guest run failed"; return 1; }
		grep -E '^(bench|nicbench|qemu-run):' "$out/guest-$k-nic.log" | sed 's/^/  /' >&2 || true
		cat "$dir/bench.csv" >>"$csv"
		say "$rel (nic): $(($(date +%s) - t)) s (with waiting for the QEMU lock)"
	}

	t_all=$(date +%s)
	for k in $kernels; do
		rel=$(scripts/kver.sh "$k")
		make --no-print-directory -s KVER="$k" module >"$out/module-$k.log" 2>&1 ||
			{ cat "$out/module-$k.log"; say "$k: module build failed"; exit 1; }
		ko=build/$rel/src/kmod/zcbuf.ko
		for boot in $boots; do
			args=(-a maxcpus=1) groups="memcpy sweep ring v4l2 sync tcp" extra= gst=
			if [ $boot = nic ]; then
				nic_boot "$k" "$rel" "$ko" || exit 1
				continue
			fi
			if [ $boot = swiotlb ]; then
				args+=(-a swiotlb=force) groups="sync"
			else
				args+=(-m vivid -f "$out/gst-guest:/zcbuf/gst"
					-f build/bench/bin/gstbench:/zcbuf/gstbench)
				extra='modprobe vivid || exit 1
	ip link set lo up || exit 1'
				gst="
	. /zcbuf/gst/env.sh && ./gstbench -k $k -b $boot -o /out/bench.csv"
			fi
			dir=$out/guest-$k-$boot
			t=$(date +%s)
			say "$rel ($boot boot): $groups"
			scripts/qemu-run.sh -q -i -k "$k" -t "$timeout_s" "${args[@]}" -o "$dir" \
				-f "$ko:/zcbuf/zcbuf.ko" -f "${ko%/*}/sim/zcbuf_sim.ko:/zcbuf/zcbuf_sim.ko" \
				-f "$bin:/zcbuf/zcbench" -- \
				"$prep
	$extra
	./zcbench -k $k -b $boot -o /out/bench.csv $groups$gst" >"$out/guest-$k-$boot.log" 2>&1 ||
				{ cat "$out/guest-$k-$boot.log"; say "$rel ($boot): guest run failed"; exit 1; }
			grep -E '^(bench|zcbench|gstbench|qemu-run):' "$out/guest-$k-$boot.log" | sed 's/^/  /' >&2 || true
			cat "$dir/bench.csv" >>"$csv"
			say "$rel ($boot): $(($(date +%s) - t)) s (with waiting for the QEMU lock)"
		done
	done
	say "all boots: $(($(date +%s) - t_all)) s"

fi

# ---- table -----------------------------------------------------------------

table() {
	awk -F, -v date="$(date -u '+%Y-%m-%d %H:%M UTC')" '
	NR == 1 { next }
	{
		key = $3 SUBSEP $1 SUBSEP $2 SUBSEP $5
		cpu[$3, $1, $2, $4, $5] = $7; fps[$3, $1, $2, $4, $5] = $8
		n[$3, $1, $2, $4, $5] = $6; note[$3, $1, $2, $4, $5] = $10
		for (i = 11; i <= NF; i++) note[$3, $1, $2, $4, $5] = note[$3, $1, $2, $4, $5] "," $i
		if (!($3 in seenk)) { seenk[$3] = 1; ks[++nk] = $3 }
		if ($1 == "sweep" && !(($3, $5) in seens)) { seens[$3, $5] = 1; sz[$3, ++ns[$3]] = $5 }
		rows[$3, $1, ++nr[$3, $1]] = $2 SUBSEP $4 SUBSEP $5
	}
	function hs(b) {
		return b >= 1048576 ? sprintf("%g MiB", b / 1048576) : b >= 1024 ? sprintf("%g KiB", b / 1024) : b " B"
	}
	function r(a, b) { return b > 0 ? sprintf("%.1f", a / b) : "-" }
	END {
		printf "zcbuf bench, %s, QEMU -icount shift=0, 1 guest CPU; consumer thread CPU time per frame (us) and frames/s of guest time\n", date
		for (x = 1; x <= nk; x++) {
			k = ks[x]
			printf "\n== kernel %s ==\n", k
			printf "\nframe-size sweep (camera YUYV, fps=0; 64 B row: NIC RX, one 64 B packet = 128 B with its descriptor table; 4 buffers)\n"
			printf "%-9s %5s | %9s %9s %9s %9s %9s | %8s %8s %8s | %s\n", "size", "frames", "zc", "read", "zc+touch", "rd+touch", "ring", "read/zc", "rt/zt", "zc/ring", "frames/s zc / read / ring"
			for (i = 1; i <= ns[k]; i++) {
				b = sz[k, i]
				zc = cpu[k, "sweep", "zc", "normal", b]; rd = cpu[k, "sweep", "read", "normal", b]
				zt = cpu[k, "sweep", "zc+touch", "normal", b]; rt = cpu[k, "sweep", "read+touch", "normal", b]
				rg = cpu[k, "sweep", "ring", "normal", b]
				printf "%-9s %5s | %9.2f %9.2f %9.2f %9.2f %9.2f | %8s %8s %8s | %.0f / %.0f / %.0f\n", (b == 128 ? "64B pkt" : hs(b)), n[k, "sweep", "zc", "normal", b], zc, rd, zt, rt, rg, r(rd, zc), r(rt, zt), r(zc, rg), fps[k, "sweep", "zc", "normal", b], fps[k, "sweep", "read", "normal", b], fps[k, "sweep", "ring", "normal", b]
			}
			split("ring v4l2 lat gst sync tcp memcpy nic", groups, " ")
			title["ring"] = "ring vs eventfd+ioctl at 4 KiB (fps=0, 64 buffers)"
			title["v4l2"] = "V4L2 anchor: vivid MMAP streaming"
			title["lat"] = "zcbuf camera at vivid'"'"'s size and frame rate (latency like for like with the v4l2 rows)"
			title["sync"] = "sync cost (8 MiB camera buffer; per START+END pair)"
			title["tcp"] = "camera (1 MiB frames) -> TCP over loopback, sender"
			title["memcpy"] = "memcpy reference (one guest CPU)"
			title["nic"] = "NIC (issue 14): virtio-net; receive rows: pktgen on the peer NIC flat out, consumer CPU per packet, packets/s, consumer ns per byte; tx-* rows: the same for the sender (64 B row: 60-byte frames, 64 with FCS)"
			title["gst"] = "GStreamer: SRC ! fakesink, whole-process CPU per frame (vivid for v4l2src; zcbufsrc at vivid'"'"'s frame rate)"
			for (g = 1; g <= 8; g++) {
				G = groups[g]
				if (!nr[k, G]) continue
				printf "\n%s\n", title[G]
				if (G == "nic")
					printf "%-16s %-8s %10s %6s %11s %10s %9s  %s\n", "row", "boot", "bytes", "pkts", "cpu us/pkt", "pkts/s", "ns/byte", "what"
				else
					printf "%-16s %-8s %10s %6s %11s %10s %9s  %s\n", "row", "boot", "bytes", "frames", "cpu us/fr", "frames/s", "ns/byte", "what"
				for (j = 1; j <= nr[k, G]; j++) {
					split(rows[k, G, j], f, SUBSEP)
					if (n[k, G, f[1], f[2], f[3]] == 0)	# a path that could not run
						printf "%-16s %-8s %10s %6s %11s %10s %9s  %s\n", f[1], f[2], f[3], 0, "-", "-", "-", note[k, G, f[1], f[2], f[3]]
					else
						printf "%-16s %-8s %10s %6s %11.3f %10.1f %9.4f  %s\n", f[1], f[2], f[3], n[k, G, f[1], f[2], f[3]], cpu[k, G, f[1], f[2], f[3]], fps[k, G, f[1], f[2], f[3]], (f[3] > 0 ? cpu[k, G, f[1], f[2], f[3]] * 1000 / f[3] : 0), note[k, G, f[1], f[2], f[3]]
				}
			}
		}
	}' "$csv"
}
table | tee "$out/table.txt"

# ---- plot ------------------------------------------------------------------

nic_paths="zcbuf-ioctl zcbuf-ring zcbuf-ring-batch tpacket-v3 recvmmsg afxdp-copy afxdp-zc"
if command -v gnuplot >/dev/null; then
	for k in $kernels; do
		for m in zc read zc+touch read+touch ring; do
			awk -F, -v k="$k" -v m="$m" '$1 == "sweep" && $3 == k && $2 == m && $4 == "normal" { print $5, $7 }' "$csv" \
				>"$out/plot-$k-${m//+/_}.dat"
		done
		awk -F, -v k="$k" '$1 == "v4l2" && $3 == k { print $5, $7 }' "$csv" >"$out/plot-$k-vivid.dat"
		awk -F, -v k="$k" '$1 == "memcpy" && $3 == k { print $5, $7 }' "$csv" >"$out/plot-$k-memcpy.dat"
		awk -F, -v k="$k" '$1 == "ring" && $2 == "ring-batch" && $3 == k { print $5, $7 }' "$csv" >"$out/plot-$k-ringbatch.dat"
		for m in $nic_paths; do
			awk -F, -v k="$k" -v m="$m" '$1 == "nic" && $3 == k && $2 == m && $6 > 0 { print $5, $7, $8 }' "$csv" \
				>"$out/plot-$k-nic-$m.dat"
		done
	done
	nic_kernels=$(awk -F, 'NR > 1 && $1 == "nic" && $6 > 0 && !s[$3]++ { printf "%s ", $3 }' "$csv")
	sweep_kernels=$(awk -F, 'NR > 1 && $1 == "sweep" && !s[$3]++ { printf "%s ", $3 }' "$csv")
	{
		if [ -n "$nic_kernels" ] && [ -n "$sweep_kernels" ]; then
			echo "set terminal pngcairo size 1100,1300 noenhanced font ',10'"
			echo "set output '$out/bench.png'"
			echo "set multiplot layout 2,1"
		else
			echo "set terminal pngcairo size 1100,700 noenhanced font ',10'"
			echo "set output '$out/bench.png'"
		fi
		# The camera panel, when the run had the camera rows.
		if [ -n "$sweep_kernels" ]; then
			echo "set title 'zcbuf: consumer CPU per frame vs frame size (QEMU -icount shift=0, 1 guest CPU; $(date -u +%Y-%m-%d))'"
			echo "set logscale xy; set grid; set key top left"
			echo "set xlabel 'frame size (bytes)'; set ylabel 'consumer thread CPU per frame (us)'"
			printf "plot "
			sep=
			for k in $kernels; do
				case $k in 6.12) dt=1 ;; 6.1) dt=2 ;; *) dt=3 ;; esac
				for m in zc read zc+touch read+touch ring; do
					printf "%s'%s' using 1:2 with linespoints dt %d title '%s %s'" "$sep" \
						"$out/plot-$k-${m//+/_}.dat" "$dt" "$m" "$k"
					sep=", "
				done
				printf "%s'%s' using 1:2 with points pt 7 ps 1.5 title 'vivid MMAP %s'" "$sep" \
					"$out/plot-$k-vivid.dat" "$k"
				printf "%s'%s' using 1:2 with points pt 5 ps 1.5 title 'ring-batch (2 ms) %s'" "$sep" \
					"$out/plot-$k-ringbatch.dat" "$k"
				printf "%s'%s' using 1:2 with lines lw 2 dt %d title 'glibc memcpy of that size %s'" "$sep" \
					"$out/plot-$k-memcpy.dat" "$dt" "$k"
			done
			echo
		fi
		if [ -n "$nic_kernels" ]; then
			echo "set title 'NIC receive (virtio-net, pktgen flat out): consumer CPU per packet vs frame size'"
			echo "set xlabel 'frame size (bytes; 64 = 60-byte frames + FCS)'; set ylabel 'consumer thread CPU per packet (us)'"
			echo "set logscale xy; set grid; set xrange [40:15000]; set key top left"
			printf "plot "
			sep=
			for k in $nic_kernels; do
				case $k in 6.12) dt=1 ;; *) dt=3 ;; esac
				for m in $nic_paths; do
					[ -s "$out/plot-$k-nic-$m.dat" ] || continue
					printf "%s'%s' using 1:2 with linespoints lw 2 dt %d title '%s %s'" "$sep" \
						"$out/plot-$k-nic-$m.dat" "$dt" "$m" "$k"
					sep=", "
				done
			done
			echo
			[ -z "$sweep_kernels" ] || echo "unset multiplot"
		fi
	} >"$out/plot.gp"
	if gnuplot "$out/plot.gp" 2>"$out/gnuplot.log"; then
		say "plot: $out/bench.png"
	else
		cat "$out/gnuplot.log" >&2
		say "gnuplot failed: no plot"
	fi
fi
say "CSV: $csv; table: $out/table.txt"

# ---- like-for-like context for the ring targets ---------------------------

awk -F, '
NR == 1 { next }
{ v[$3, $1, $2, $4, $5] = $7; f[$3, $1, $2, $4, $5] = $8; if (!($3 in seen)) { seen[$3] = 1; ks[++nk] = $3 }
  if ($1 == "ring" && $2 == "ioctl") note[$3] = $0 }
END {
	for (x = 1; x <= nk; x++) {
		k = ks[x]
		printf "info [%s] ring targets use the ring consumer that works in batches (\"ring-batch\": looks every 2 ms, no syscall but a kick when the device asked) against the eventfd+ioctl consumer woken per completion (\"ioctl\").\n", k
		printf "info [%s] like for like: woken per completion, ring/ioctl CPU %.2f; in 2 ms batches, ring-batch/ioctl-batch CPU %.2f; frames/s ring/ioctl %.2f, ring-batch/ioctl-batch %.2f\n", k, v[k, "ring", "ring", "normal", 4096] / v[k, "ring", "ioctl", "normal", 4096], v[k, "ring", "ring-batch", "normal", 4096] / v[k, "ring", "ioctl-batch", "normal", 4096], f[k, "ring", "ring", "normal", 4096] / f[k, "ring", "ioctl", "normal", 4096], f[k, "ring", "ring-batch", "normal", 4096] / f[k, "ring", "ioctl-batch", "normal", 4096]
		worst = 99
		for (key in v) { split(key, kk, SUBSEP); if (kk[1] == k && kk[2] == "sweep" && kk[3] == "ring") { b = kk[5]; r = v[k, "sweep", "read", "normal", b] / v[key]; if (r < worst) { worst = r; wb = b } } }
		printf "info [%s] the ring consumer (woken per completion) against read(): min read/ring %.2f at %d B\n", k, worst, wb
		dev = note[k]; sub(/.*device thread /, "", dev); sub(/ us\/frame.*/, "", dev)
		ci = v[k, "ring", "ioctl", "normal", 4096]
		if (dev > 0) printf "info [%s] frames/s at 4 KiB is bounded by the simulated camera: its kernel thread spends %.1f us per frame, the eventfd+ioctl consumer %.1f us; on one CPU a consumer that cost nothing would give at most %.2fx the frames/s\n", k, dev, ci, (dev + ci) / dev
	}
}' "$csv" | tee "$out/info.txt"

# ---- targets (issue 8), from the rows above -------------------------------

awk -F, -v kernels="$kernels" '
NR == 1 { next }
{ v[$3, $1, $2, $4, $5] = $7; f[$3, $1, $2, $4, $5] = $8
  if ($1 == "sweep") { if (!(($3, $5) in s)) { s[$3, $5] = 1; sz[$3, ++ns[$3]] = $5 } } }
function out(name, meas, goal, ok) {
	printf "target %s: %s (goal %s) %s\n", name, meas, goal, ok ? "met" : "MISSED"
}
END {
	nk = split(kernels, K, " ")
	for (x = 1; x <= nk; x++) {
		k = K[x]; b4 = 4096; b8 = 8388608
		zc4 = v[k, "sweep", "zc", "normal", b4]; zc8 = v[k, "sweep", "zc", "normal", b8]
		rd8 = v[k, "sweep", "read", "normal", b8]
		zt8 = v[k, "sweep", "zc+touch", "normal", b8]; rt8 = v[k, "sweep", "read+touch", "normal", b8]
		a = zc4 > 0 ? zc8 / zc4 : 99
		out("zc_8MiB_over_4KiB[" k "]", sprintf("%.2f", a), "<= 1.2", a <= 1.2)
		a = zc8 > 0 ? rd8 / zc8 : 0
		out("read_over_zc_8MiB[" k "]", sprintf("%.0f", a), ">= 500", a >= 500)
		a = zt8 > 0 ? rt8 / zt8 : 0
		out("read+touch_over_zc+touch_8MiB[" k "]", sprintf("%.2f", a), ">= 2.5", a >= 2.5)
		worst = 99; wb = 0
		for (i = 1; i <= ns[k]; i++) {
			b = sz[k, i]; zc = v[k, "sweep", "zc", "normal", b]; rd = v[k, "sweep", "read", "normal", b]
			if (zc > 0 && rd / zc < worst) { worst = rd / zc; wb = b }
		}
		out("zc_not_slower_than_read_all_sizes[" k "]", sprintf("min read/zc %.2f at %d B", worst, wb), ">= 1.00 at every size", worst >= 1)
		ri = v[k, "ring", "ioctl", "normal", 4096]; rb = v[k, "ring", "ring-batch", "normal", 4096]
		a = ri > 0 ? rb / ri : 99
		out("ring_cpu_over_eventfd_ioctl_4KiB[" k "]", sprintf("%.2f", a), "<= 0.20", a <= 0.2)
		vv = v[k, "v4l2", "vivid320x180", "normal", 115200]
		a = vv > 0 ? rb / vv : 99
		out("ring_cpu_over_vivid_dqbuf_qbuf[" k "]", sprintf("%.2f", a), "<= 0.33", a <= 1 / 3)
		fi = f[k, "ring", "ioctl", "normal", 4096]; fr = f[k, "ring", "ring-batch", "normal", 4096]
		a = fi > 0 ? fr / fi : 0
		out("ring_fps_over_eventfd_ioctl_4KiB[" k "]", sprintf("%.2f", a), ">= 5", a >= 5)
		# Issue 15: zcbufsrc ! fakesink at most half the CPU per frame of v4l2src ! fakesink
		# (MMAP and DMABUF), at every size.
		worst = 0; wb = ""; nsz = 0
		for (key in v) {
			split(key, kk, SUBSEP)
			if (kk[1] != k || kk[2] != "gst" || kk[3] != "zcbufsrc") continue
			b = kk[5]; z = v[key]; nsz++
			fl = v[k, "gst", "gst-floor", "normal", b]
			for (m = 1; m <= 2; m++) {
				vv = v[k, "gst", m == 1 ? "v4l2src-mmap" : "v4l2src-dmabuf", "normal", b]
				a = vv > 0 ? z / vv : 99
				if (a > worst) { worst = a; wb = (m == 1 ? "MMAP" : "DMABUF") " at " b " B"; wf = vv > 0 ? fl / vv : 0 }
			}
		}
		# gst-floor (fakesrc, no device) at the same size and rate: what
		# GStreamer itself costs per buffer, printed beside the ratio.
		if (nsz)
			out("gstreamer[" k "]: zcbufsrc <= 1/2 v4l2src CPU/frame", sprintf("max zcbufsrc/v4l2src %.2f (%s; floor of GStreamer itself, fakesrc/v4l2src: %.2f)", worst, wb, wf), "<= 0.50 against MMAP and DMABUF at every size", worst <= 0.5)
		else
			out("gstreamer[" k "]: zcbufsrc <= 1/2 v4l2src CPU/frame", "no GStreamer rows", "<= 0.50", 0)
	}
}' "$csv" | tee "$out/targets.txt"

# ---- NIC targets (issue 14), from the nic rows ------------------------------
# zcbuf's row is "zcbuf-ring" (the CQ/SQ ring, eventfd when idle), like for
# like with AF_XDP's and TPACKET_V3's consumers, which poll() when their ring
# is empty.  A comparison whose other side could not run says so, and counts
# as MISSED: it was not shown to be met.

awk -F, -v kernels="$kernels" '
NR == 1 { next }
$1 == "nic" { c[$3, $2, $5] = $7; p[$3, $2, $5] = $8; n[$3, $2, $5] = $6; b[$3, $2, $5] = $9
	note[$3, $2, $5] = $10; for (i = 11; i <= NF; i++) note[$3, $2, $5] = note[$3, $2, $5] "," $i; has[$3] = 1 }
function p99(s) { return match(s, /p99 [0-9.]+ us/) ? substr(s, RSTART + 4, RLENGTH - 7) + 0 : -1 }
function nolat(s) { return match(s, /latency n\/a: [^;]*/) ? substr(s, RSTART + 13, RLENGTH - 13) : "no latency in the row" }
function out(name, meas, goal, ok) {
	printf "target %s: %s (goal %s) %s\n", name, meas, goal, ok ? "met" : "MISSED"
}
function why(k, r, s,   w) { w = note[k, r, s]; sub(/^cannot run: /, "", w); return r " could not run: " w }
END {
	nk = split(kernels, K, " ")
	for (x = 1; x <= nk; x++) {
		k = K[x]
		if (!has[k]) {
			printf "info [%s] no NIC rows: zcbuf_virtio_net needs premapped virtqueues (6.12 or later)\n", k
			continue
		}
		z = c[k, "zcbuf-ring", 64]
		if (n[k, "afxdp-zc", 64] > 0)
			out("nic_cpu_zcbuf_over_afxdp_zc_64B[" k "]", sprintf("%.2f (%.3f / %.3f us)", z / c[k, "afxdp-zc", 64], z, c[k, "afxdp-zc", 64]), "<= 1.00", z <= c[k, "afxdp-zc", 64])
		else
			out("nic_cpu_zcbuf_over_afxdp_zc_64B[" k "]", "not measurable, " why(k, "afxdp-zc", 64), "<= 1.00", 0)
		if (n[k, "afxdp-copy", 64] > 0)
			printf "info [%s] for reference, zcbuf-ring / afxdp-copy CPU per packet at 64 B: %.2f (%.3f / %.3f us)\n", k, z / c[k, "afxdp-copy", 64], z, c[k, "afxdp-copy", 64]
		t = c[k, "tpacket-v3", 64]
		out("nic_cpu_zcbuf_over_tpacket_v3_64B[" k "]", sprintf("%.2f (%.3f / %.3f us)", t > 0 ? z / t : 99, z, t), "<= 0.50", t > 0 && z / t <= 0.5)
		best = 0; bm = ""
		for (m = 1; m <= 2; m++) {
			r = m == 1 ? "afxdp-copy" : "afxdp-zc"
			if (n[k, r, 64] > 0 && p[k, r, 64] > best) { best = p[k, r, 64]; bm = r }
		}
		zp = p[k, "zcbuf-ring", 64]
		if (best > 0)
			out("nic_pps_zcbuf_over_afxdp_64B[" k "]", sprintf("%.2f (%.0f / %.0f pkts/s, best AF_XDP: %s)", zp / best, zp, best, bm), ">= 1.00", zp >= best)
		else
			out("nic_pps_zcbuf_over_afxdp_64B[" k "]", "not measurable, no AF_XDP mode could run", ">= 1.00", 0)
		for (sz = 1; sz <= 2; sz++) {
			s = sz == 1 ? 1500 : 9000
			zb = b[k, "zcbuf-ring", s]
			if (n[k, "afxdp-zc", s] > 0)
				out("nic_cpu_per_byte_zcbuf_over_afxdp_zc_" s "B[" k "]", sprintf("%.2f (%.4f / %.4f ns/B)", zb / b[k, "afxdp-zc", s], zb, b[k, "afxdp-zc", s]), "<= 1.00", zb <= b[k, "afxdp-zc", s])
			else
				out("nic_cpu_per_byte_zcbuf_over_afxdp_zc_" s "B[" k "]", "not measurable, " why(k, "afxdp-zc", s), "<= 1.00", 0)
		}
		# p99 completion-to-consumer latency of zcbuf-ring at 64 B against
		# AF_XDP (the mode with the lower p99 of those that ran; each
		# AF_XDP row took it in a pass of its own, with the xdp_redirect
		# tracepoint on).
		zl = p99(note[k, "zcbuf-ring", 64]); al = -1; am = ""; anote = ""
		for (m = 1; m <= 2; m++) {
			r = m == 1 ? "afxdp-copy" : "afxdp-zc"
			l = p99(note[k, r, 64])
			if (l > 0 && (al < 0 || l < al)) { al = l; am = r }
			if (l <= 0) anote = anote (anote == "" ? "" : "; ") (n[k, r, 64] > 0 ? r ": " nolat(note[k, r, 64]) : why(k, r, 64))
		}
		if (zl > 0 && al > 0)
			out("nic_p99_latency_zcbuf_over_afxdp_64B[" k "]", sprintf("%.2f (%.1f / %.1f us, AF_XDP with the lower p99: %s)", zl / al, zl, al, am), "<= 1.00", zl <= al)
		else
			out("nic_p99_latency_zcbuf_over_afxdp_64B[" k "]", "not measurable: " (zl > 0 ? anote : "zcbuf-ring: " nolat(note[k, "zcbuf-ring", 64])), "<= 1.00", 0)
	}
}' "$csv" | tee -a "$out/targets.txt"

# ---- latency targets (issue 14): zcbuf's camera against vivid ----------------
# Like for like: zcbuf's camera paced at vivid's size and frame rate
# ("lat" rows, eventfd + DQBUF + QBUF, the completion timestamp of DQBUF)
# against vivid at that size (its v4l2 row: poll + DQBUF + QBUF, completion
# = the vb2:vb2_buf_done tracepoint, taken in a stream of its own).

awk -F, -v kernels="$kernels" '
NR == 1 { next }
$1 == "v4l2" || $1 == "lat" { nt = $10; for (i = 11; i <= NF; i++) nt = nt "," $i; note[$3, $1, $2, $5] = nt
	if ($1 == "v4l2" && !(($3, $5) in s)) { s[$3, $5] = 1; sz[$3, ++ns[$3]] = $5; vrow[$3, $5] = $2 } }
function p99(s) { return match(s, /p99 [0-9.]+ us/) ? substr(s, RSTART + 4, RLENGTH - 7) + 0 : -1 }
function nolat(s) { return match(s, /latency n\/a: [^;]*/) ? substr(s, RSTART + 13, RLENGTH - 13) : "no latency in the row" }
END {
	nk = split(kernels, K, " ")
	for (x = 1; x <= nk; x++) {
		k = K[x]
		if (!ns[k]) continue
		worst = -1; wb = ""; miss = ""
		for (i = 1; i <= ns[k]; i++) {
			b = sz[k, i]; v = p99(note[k, "v4l2", vrow[k, b], b]); z = p99(note[k, "lat", "zc-paced", b])
			rg = p99(note[k, "lat", "ring-paced", b])
			if (v <= 0 || z <= 0) { miss = miss (miss == "" ? "" : "; ") b " B: " (v <= 0 ? "vivid: " nolat(note[k, "v4l2", vrow[k, b], b]) : "zc-paced: " nolat(note[k, "lat", "zc-paced", b])); continue }
			printf "info [%s] p99 latency at %d B: zcbuf eventfd+ioctl %.1f us, zcbuf ring %.1f us, vivid %.1f us\n", k, b, z, rg, v
			if (z / v > worst) { worst = z / v; wb = sprintf("%d B (%.1f / %.1f us)", b, z, v) }
		}
		if (miss != "" || worst < 0)
			printf "target p99_latency_zcbuf_over_vivid[%s]: not measurable: %s (goal <= 1.00 at every vivid size) MISSED\n", k, miss
		else
			printf "target p99_latency_zcbuf_over_vivid[%s]: max zcbuf/vivid p99 %.2f at %s (goal <= 1.00 at every vivid size) %s\n", k, worst, wb, worst <= 1 ? "met" : "MISSED"
	}
}' "$csv" | tee -a "$out/targets.txt"

# ---- latency summary: p50/p99 of every row that has them ---------------------

awk -F, '
NR == 1 { next }
{ nt = $10; for (i = 11; i <= NF; i++) nt = nt "," $i
  if (match(nt, /p50 [0-9.]+ us p99 [0-9.]+ us/)) l = substr(nt, RSTART + 4, RLENGTH - 7)
  else if (match(nt, /latency n\/a: [^;]*/)) l = "n/a (" substr(nt, RSTART + 13, RLENGTH - 13) ")"
  else next
  sub(/ us p99 /, "/", l)
  printf "latency [%s] %-6s %-16s %9s B: %s\n", $3, $1, $2, $5, l }
' "$csv" | tee "$out/latency.txt"

