#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The lines of a guest's kernel log that fail a run (qemu-run.sh scans the
# whole log with this, boot and module loading included).
#
# usage: scripts/klog-scan.sh LOG...   print the bad lines of each LOG;
#                                      exit 1 if there are any, else 0
#        scripts/klog-scan.sh --self-test
#                                      the scan itself: it must pass a clean
#                                      log and a fault a test expected, and
#                                      fail every other case
#
# Bad: BUG:/WARNING:/Oops/KASAN:/lockdep/leak/stall/... lines anywhere, and
# an IOMMU fault (a device DMAed where it may not) anywhere except between
# the two lines a selftest writes around the fault it provokes on purpose
# (ZC_KMSG_FAULT_BEGIN/END in selftests/zcbuf_helpers.h).  A window that a
# dead test never closed ends at run_guest.sh's next "zcbuf-selftest:
# start|end" line, so a fault after it still counts.
set -euo pipefail

BAD_RE='BUG:|WARNING:|Oops|KASAN:|UBSAN:|suspected memory leak|possible circular locking|possible recursive locking|inconsistent lock state|Call Trace|general protection|Kernel panic|soft lockup|hard LOCKUP|blocked for more than|rcu_sched self-detected stall|rcu: INFO'
# intel-iommu's report of a refused DMA (as run_guest.sh matches it).
FAULT_RE='DMAR: DRHD: handling fault|DMAR: \[(DMA|INTR)[^]]*\] Request device'
FAULT_BEGIN='zcbuf-selftest: iommu fault expected'
FAULT_END='zcbuf-selftest: iommu fault expected: end'

scan() {
	awk -v bad="$BAD_RE" -v fault="$FAULT_RE" -v b="$FAULT_BEGIN" -v e="$FAULT_END" '
		FNR == 1 { inside = 0 }
		index($0, e) { inside = 0; next }
		index($0, b) { inside = 1; next }
		/zcbuf-selftest: (start|end) / { inside = 0 }
		$0 ~ bad || (!inside && $0 ~ fault) { print; found = 1 }
		END { exit found ? 1 : 0 }' "$@"
}

self_test() {
	local d ok=1
	d=$(mktemp -d)
	trap 'rm -rf "$d"' RETURN
	# Each case: a log and whether the scan must flag it.
	cat >"$d/clean" <<-'EOF'
		[    0.512] DMAR: IOMMU enabled
		[    9.001] zcbuf-selftest: start zcbuf_edu
		[    9.300] zcbuf-selftest: end zcbuf_edu
	EOF
	cat >"$d/expected" <<-'EOF'
		[    9.001] zcbuf-selftest: start zcbuf_edu
		[    9.100] zcbuf-selftest: iommu fault expected
		[    9.200] DMAR: DRHD: handling fault status reg 2
		[    9.201] DMAR: [DMA Write NO_PASID] Request device [00:03.0] fault addr 0xfffff000 [fault reason 0x05] PTE Write access is not set
		[    9.250] zcbuf-selftest: iommu fault expected: end
		[    9.300] zcbuf-selftest: end zcbuf_edu
	EOF
	cat >"$d/boot" <<-'EOF'
		[    1.700] DMAR: DRHD: handling fault status reg 2
		[    1.701] DMAR: [DMA Read NO_PASID] Request device [00:03.0] fault addr 0x1000 [fault reason 0x06] PTE Read access is not set
		[    9.001] zcbuf-selftest: start zcbuf_edu
	EOF
	cat >"$d/insmod" <<-'EOF'
		[    8.001] zcbuf-selftest: start insmod
		[    8.200] DMAR: [DMA Write NO_PASID] Request device [00:03.0] fault addr 0x2000 [fault reason 0x05] PTE Write access is not set
	EOF
	cat >"$d/after-window" <<-'EOF'
		[    9.100] zcbuf-selftest: iommu fault expected
		[    9.250] zcbuf-selftest: iommu fault expected: end
		[    9.260] DMAR: DRHD: handling fault status reg 2
	EOF
	cat >"$d/unclosed" <<-'EOF'
		[    9.100] zcbuf-selftest: iommu fault expected
		[    9.300] zcbuf-selftest: end zcbuf_edu
		[    9.400] zcbuf-selftest: start rmmod
		[    9.500] DMAR: DRHD: handling fault status reg 2
	EOF
	cat >"$d/warn" <<-'EOF'
		[    9.100] zcbuf-selftest: iommu fault expected
		[    9.200] WARNING: CPU: 0 PID: 1 at kernel/dma/debug.c:1 check_sync
	EOF
	# A window left open at the end of one log does not cover the next.
	cat >"$d/two-a" <<-'EOF'
		[    9.100] zcbuf-selftest: iommu fault expected
	EOF
	cp "$d/boot" "$d/two-b"

	for c in clean expected; do
		scan "$d/$c" >/dev/null || { echo "klog-scan: self-test: case $c flagged" >&2; ok=0; }
	done
	for c in boot insmod after-window unclosed warn; do
		scan "$d/$c" >/dev/null && { echo "klog-scan: self-test: case $c passed" >&2; ok=0; }
	done
	scan "$d/two-a" "$d/two-b" >/dev/null &&
		{ echo "klog-scan: self-test: a window spanned two logs" >&2; ok=0; }
	[ $ok = 1 ] || return 1
	echo "klog-scan: self-test: clean and expected faults pass; faults at boot, insmod, after or outside a window and WARNs fail"
}

if [ "${1:-}" = --self-test ]; then
	self_test
	exit
fi
[ $# -gt 0 ] || { sed -n '7,12p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
scan "$@"
