#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside the QEMU guest (busybox sh), from the directory holding the
# test binaries, settings and this script:
#   insmod zcbuf.ko and the device drivers, run every test program, rmmod
#   the drivers and zcbuf, report.
#
# usage: run_guest.sh [-m path/to/zcbuf.ko] [-d path/to/driver.ko]... [TEST...]
#        (default tests: the programs in kselftest-list.txt, else every
#        executable here but this; default drivers: zcbuf_sim.ko beside
#        zcbuf.ko, if there is one)
#        A TEST given as PROGRAM@DEVICE (zcbuf_stream@edu0) runs PROGRAM
#        with ZCBUF_TEST_DEVICE=DEVICE: the generic suites then test that
#        zcbuf device instead of the default one (zcbuf_helpers.h).
#
# Output follows the kselftest runner: a top-level KTAP with one line per
# program, the program's own KTAP indented with "# ". After each program one
# line "# zcbuf: NAME: pass:P fail:F skip:S exit:RC (SECONDS s)", at the end one line
# "# zcbuf-totals: pass:P fail:F skip:S", which the host sums. Passes and
# skips are test cases; insmod and rmmod add a failure only when they fail.
# A program that crashes, times out, exits non-zero, or leaves
# BUG:/WARNING:/... or an IOMMU fault in the kernel log after its /dev/kmsg
# marker counts as (at least) one failure; IOMMU faults only outside the
# lines a test writes around the fault it provokes on purpose
# (ZC_KMSG_FAULT_BEGIN/END in zcbuf_helpers.h). Exit status: 0 only when
# nothing failed.

dir=$(cd "$(dirname "$0")" && pwd)
module=
drivers=
while getopts "m:d:" opt; do
	case $opt in
	m) module=$OPTARG ;;
	d) drivers="$drivers $OPTARG" ;;
	*) echo "usage: $0 [-m zcbuf.ko] [-d driver.ko]... [TEST...]" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ -n "$module" ] || for m in "$dir/zcbuf.ko" "$dir/../zcbuf.ko" /zcbuf/zcbuf.ko; do
	[ -e "$m" ] && { module=$m; break; }
done
if [ -z "$drivers" ] && [ -n "$module" ] && [ -e "${module%/*}/zcbuf_sim.ko" ]; then
	drivers=${module%/*}/zcbuf_sim.ko
fi
# Tests that unload a driver load it again from here.
ZCBUF_DRIVERS=$(echo $drivers)
export ZCBUF_DRIVERS
# Module names (as in /proc/modules) of the drivers, last loaded first.
drvnames=
for d in $drivers; do
	m=${d##*/}
	drvnames="${m%.ko} $drvnames"
done

BAD_RE='BUG:|WARNING:|Oops|KASAN:|UBSAN:|suspected memory leak|possible circular locking|possible recursive locking|inconsistent lock state|Call Trace|general protection|soft lockup|blocked for more than'
# A device DMAed where the IOMMU does not let it (intel-iommu's report).
FAULT_RE='DMAR: DRHD: handling fault|DMAR: \[(DMA|INTR)[^]]*\] Request device'
BAD_RE="$BAD_RE|$FAULT_RE"
FAULT_BEGIN='zcbuf-selftest: iommu fault expected'
FAULT_END='zcbuf-selftest: iommu fault expected: end'

# The kernel log on stdin without the IOMMU fault lines between a test's
# FAULT_BEGIN and FAULT_END lines (to the end, if it died in between).
expected_faults_out() {
	awk -v b="$FAULT_BEGIN" -v e="$FAULT_END" '
		index($0, e) { inside = 0; next }
		index($0, b) { inside = 1; next }
		inside && /DMAR: / { next }
		{ print }'
}

timeout_s=45
[ -r "$dir/settings" ] && timeout_s=$(sed -n 's/^timeout=//p' "$dir/settings")

if [ $# -eq 0 ] && [ -r "$dir/kselftest-list.txt" ]; then
	set -- $(cat "$dir/kselftest-list.txt")
elif [ $# -eq 0 ]; then
	for f in "$dir"/*; do
		[ -f "$f" ] && [ -x "$f" ] || continue
		case ${f##*/} in run_guest.sh|*.sh|*.ko|settings) continue ;; esac
		set -- "$@" "${f##*/}"
	done
fi

# Tests that unload the module load it again from here.
[ -z "$module" ] || export ZCBUF_MODULE="$module"

tp=0 tf=0 ts=0
kmsg() { echo "$*" >/dev/kmsg 2>/dev/null; }

echo "TAP version 13"
echo "1..$(($# + 2))"
echo "# timeout set to $timeout_s"
echo "# kernel $(uname -r): $(cat /proc/cmdline)"
n=0

# 1: load the module
n=$((n + 1))
kmsg "zcbuf-selftest: start insmod"
if [ -z "$module" ]; then
	echo "# zcbuf.ko not found"
	echo "not ok $n selftests: zcbuf: insmod"
	tf=$((tf + 1))
elif out=$(insmod "$module" 2>&1) && [ -e /dev/zcbuf ]; then
	echo "# insmod $module: /dev/zcbuf $(ls -l /dev/zcbuf | cut -d' ' -f1)"
	echo "ok $n selftests: zcbuf: insmod"
else
	echo "# insmod $module failed: $out"
	[ -e /dev/zcbuf ] || echo "# /dev/zcbuf does not exist"
	echo "not ok $n selftests: zcbuf: insmod"
	tf=$((tf + 1))
fi
# The drivers register their devices with the core: after it, in order.
# The simulator translates DMA addresses itself and so refuses to load
# behind an IOMMU: there, its absence is no failure.
for d in $drivers; do
	# What a driver needs beyond zcbuf comes from the guest's modules
	# (the virtio core is a module on 6.1, built in on 6.12).
	for dep in $(modinfo -F depends "$d" 2>/dev/null | tr ',' ' '); do
		grep -q "^$dep " /proc/modules || modprobe -q "$dep" 2>/dev/null
	done
	if out=$(insmod "$d" 2>&1); then
		echo "# insmod $d: $(ls /sys/class/zcbuf 2>/dev/null | tr '\n' ' ')"
	elif [ "${d##*/}" = zcbuf_sim.ko ] && [ -n "$(ls /sys/class/iommu 2>/dev/null)" ]; then
		echo "# insmod $d: not loaded behind an IOMMU (the simulator needs dma-direct)"
	else
		echo "# insmod $d failed: $out"
		tf=$((tf + 1))
	fi
done

for t in "$@"; do
	n=$((n + 1))
	echo "# selftests: zcbuf: $t"
	kmsg "zcbuf-selftest: start $t"
	t0=$(cut -d' ' -f1 /proc/uptime)
	log=/tmp/$t.out
	rcfile=/tmp/$t.rc
	prog=${t%%@*}
	tdev=
	[ "$prog" = "$t" ] || tdev=${t#*@}
	# The program's output streams live, indented; its status survives
	# the pipe through a file.
	# Against a device (PROGRAM@DEVICE, in practice edu: about ten
	# 4 KiB transfers a second) a program gets three times the time.
	tmo=$timeout_s
	[ -z "$tdev" ] || tmo=$((timeout_s * 3))
	{ ZCBUF_TEST_DEVICE=$tdev timeout -k 5 "$tmo" "$dir/$prog" 2>&1; echo $? >"$rcfile"; } |
		tee "$log" | awk '{ print "# " $0; fflush() }'
	rc=$(cat "$rcfile" 2>/dev/null || echo 255)
	kmsg "zcbuf-selftest: end $t"

	# Totals line of kselftest_harness / ksft_print_cnts:
	# "# Totals: pass:X fail:Y xfail:A xpass:B skip:C error:D"
	tot=$(grep '^# Totals: ' "$log" | tail -n 1)
	if [ -n "$tot" ]; then
		get() { echo "$tot" | sed -n "s/.* $1:\([0-9]*\).*/\1/p"; }
		p=$(( $(get pass) + $(get xfail) ))
		f=$(( $(get fail) + $(get xpass) + $(get error) ))
		s=$(get skip)
	else
		# No totals: the program crashed or is not a harness test;
		# count its top-level KTAP lines.
		p=$(grep -cE '^ok [0-9]+' "$log")
		s=$(grep -cE '^ok [0-9]+ .*# *SKIP' "$log")
		p=$((p - s))
		f=$(grep -cE '^not ok [0-9]+' "$log")
	fi
	why=
	case $rc in
	0) ;;
	4) [ $((p + f + s)) -gt 0 ] || s=1 ;;	# KSFT_SKIP for the whole program
	124|143) why="timed out after ${tmo} s" ;;
	*) why="exit status $rc" ;;
	esac
	if [ -n "$why" ] && [ "$f" -eq 0 ]; then
		f=1
	fi
	[ -z "$why" ] || echo "# $t: $why"
	klog=$(dmesg | sed -n "/zcbuf-selftest: start $t\$/,/zcbuf-selftest: end $t\$/p" |
		expected_faults_out | grep -E "$BAD_RE")
	if [ -n "$klog" ]; then
		echo "# $t: kernel log shows a problem:"
		echo "$klog" | sed 's/^/#   /'
		f=$((f + 1))
	fi
	# Guest seconds the program took: a slow host shows here first.
	secs=$(awk -v a="$t0" '{ printf "%.1f", $1 - a }' /proc/uptime)
	echo "# zcbuf: $t: pass:$p fail:$f skip:$s exit:$rc (${secs} s)"
	if [ "$f" -gt 0 ]; then
		echo "not ok $n selftests: zcbuf: $t${why:+ # $why}"
	elif [ "$p" -eq 0 ] && [ "$s" -gt 0 ]; then
		echo "ok $n selftests: zcbuf: $t # SKIP"
	else
		echo "ok $n selftests: zcbuf: $t"
	fi
	tp=$((tp + p)) tf=$((tf + f)) ts=$((ts + s))
done

# last: unload the drivers, then the core, which must succeed once every
# test has closed its fds
n=$((n + 1))
kmsg "zcbuf-selftest: start rmmod"
for m in $drvnames; do
	grep -q "^$m " /proc/modules || continue
	if ! out=$(rmmod "$m" 2>&1); then
		echo "# rmmod $m failed: $out"
		tf=$((tf + 1))
	fi
done
if [ -z "$module" ] || ! grep -q '^zcbuf ' /proc/modules; then
	echo "not ok $n selftests: zcbuf: rmmod # module not loaded"
	tf=$((tf + 1))
elif out=$(rmmod zcbuf 2>&1) && [ ! -e /dev/zcbuf ]; then
	echo "ok $n selftests: zcbuf: rmmod"
else
	echo "# rmmod zcbuf failed: $out"
	grep '^zcbuf ' /proc/modules | sed 's/^/# /'
	echo "not ok $n selftests: zcbuf: rmmod"
	tf=$((tf + 1))
fi
kmsg "zcbuf-selftest: end rmmod"
klog=$(dmesg | sed -n '/zcbuf-selftest: start rmmod$/,$p' | grep -E "$BAD_RE")
if [ -n "$klog" ]; then
	echo "# rmmod: kernel log shows a problem:"
	echo "$klog" | sed 's/^/#   /'
	tf=$((tf + 1))
fi

echo "# zcbuf-totals: pass:$tp fail:$tf skip:$ts"
[ "$tf" -eq 0 ]
