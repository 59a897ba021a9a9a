#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make check-debug: the whole selftest suite, a long fuzz, a kill storm and
# systematic fault injection on the debug 6.12 kernel (KASAN, lockdep,
# DMA-API debug, kmemleak, fault injection; see debug/debug.config), booted
# plain and with swiotlb=force.
#
# For each boot: insmod the module built against the debug tree, run every
# selftest (selftests/run_guest.sh, zcbuf_faultinject included: it only
# runs here), then a longer zcbuf_fuzz and zcbuf_stress, rmmod, and two
# kmemleak scans (kmemleak's state is cleared after boot, so only what the
# tests leaked counts).  Any KASAN, lockdep, DMA-API debug, WARN or BUG
# report in the kernel log (qemu-run.sh scans it; panic_on_warn stops the
# guest at the first WARN), any kmemleak report, any failed test fails the
# run.  Ends with the figures: calls fuzzed, fault points injected,
# processes killed, leaks.
#
# Environment:
#   ZCBUF_DEBUG_BOOTS     boot profiles, separated by ";" or, when there is
#                         no ";", by ",", each CMDLINE[|QEMU-ARGS[|TESTS]] as
#                         in make check ("-" is a plain boot; default: plain,
#                         swiotlb=force, QEMU's edu behind intel-iommu
#                         running the edu and buffer tests and the streaming,
#                         ring and fence suites against edu, so that DMA-API
#                         debug sees the range syncs of IOMMU mappings, and
#                         two virtio-net NICs on a hub for zcbuf_virtio_net)
#   ZCBUF_DEBUG_TIMEOUT   seconds per boot before the guest counts as hung
#                         (default 2400)
#   ZCBUF_DEBUG_FUZZ_OPS  operations of the long fuzz round (default 60000)
#   ZCBUF_DEBUG_STRESS    zcbuf_stress options (default "-r 4 -p 8")
#   ZCBUF_DEBUG_MODULES   debug-kernel modules put in the guest (default
#                         "vivid vgem")
#   ZCBUF_DEBUG_SEED      seed for the fuzz and the storm (default: random,
#                         printed)
#   ZCBUF_DEBUG_TESTS     selftest programs run_guest.sh runs (default: all)
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
cd "$top" || exit 1

iommu_tests="zcbuf_edu zcbuf_devices zcbuf_basic zcbuf_buffers zcbuf_mmap zcbuf_import"
iommu_tests+=" zcbuf_stream@edu0 zcbuf_ring@edu0 zcbuf_interop_fence@edu0"
default_boots="-;swiotlb=force"
default_boots+=";intel_iommu=on|-machine q35 -device intel-iommu -device edu|$iommu_tests"
# zcbuf_virtio_net.ko as in make check (the debug kernel has virtio_net
# built in): the peer NIC stays the kernel's, zcbuf takes the second.
vnet_qemu="-netdev hubport,id=n0,hubid=0 -device virtio-net-pci,netdev=n0"
vnet_qemu+=" -netdev hubport,id=n1,hubid=0"
vnet_qemu+=" -device virtio-net-pci,netdev=n1,iommu_platform=on,disable-legacy=on"
default_boots+=";-|$vnet_qemu|zcbuf_virtio_net zcbuf_devices"
boots_spec=${ZCBUF_DEBUG_BOOTS:-$default_boots}
if [[ $boots_spec == *";"* ]]; then
	IFS=';' read -r -a boots <<<"$boots_spec"
else
	IFS=, read -r -a boots <<<"$boots_spec"
fi
timeout_s=${ZCBUF_DEBUG_TIMEOUT:-2400}
fuzz_ops=${ZCBUF_DEBUG_FUZZ_OPS:-60000}
stress_opts=${ZCBUF_DEBUG_STRESS:--r 4 -p 8}
guest_modules=${ZCBUF_DEBUG_MODULES-vivid vgem}
tests=${ZCBUF_DEBUG_TESTS:-}
seed=${ZCBUF_DEBUG_SEED:-$(od -An -N6 -tu8 /dev/urandom | tr -d ' ')}
out=build/check-debug

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
hdr() { printf '\n==== %s ====\n' "$*"; }
fail_early() { echo "check-debug: $*"; echo "0 passed, 1 failed"; exit 1; }

"$here/setup.sh" none || fail_early "setup failed"

t=$(now)
hdr "debug kernel"
cache=${ZCBUF_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/zcbuf}
if [ ! -f "$cache/debug-kernel/current/done" ] &&
   [ ! -f "$(readlink -f "$cache/debug-kernel/current" 2>/dev/null)/done" ]; then
	echo "not built yet: building it once now (tens of minutes on 2 cores)"
fi
tree=$("$here/debug-kernel.sh") || fail_early "building the debug kernel failed"
rel=$(cat "$tree/include/config/kernel.release")
echo "$tree ($rel)"
timings=("debug kernel: $(since "$t") s (cached after the first build)")

rm -rf "$out"
mkdir -p "$out"

t=$(now)
hdr "userland: library, apps, selftests"
make --no-print-directory -j2 userlib apps selftests || fail_early "userland build failed"
hdr "module W=1 against $tree"
make --no-print-directory KDIR="$tree" module-strict >"$out/module.log" 2>&1 ||
	{ cat "$out/module.log"; fail_early "module build against the debug tree failed"; }
grep -vE '^make\[[0-9]+\]: (Entering|Leaving)' "$out/module.log"
ko=$(sed -n 's/^module: \([^ ]*\.ko\).*/\1/p' "$out/module.log" | tail -n 1)
[ -f "$ko" ] || fail_early "no zcbuf.ko after the build (see $out/module.log)"
simko=${ko%/*}/sim/zcbuf_sim.ko
eduko=${ko%/*}/edu/zcbuf_edu.ko
vnetko=${ko%/*}/virtio_net/zcbuf_virtio_net.ko
timings+=("builds: $(since "$t") s")

# What runs in the guest, after run_guest.sh.
cat >"$out/guest-extra.sh" <<EOF
#!/bin/sh
# Runs in the guest after the suite: long fuzz, kill storm, kmemleak.
# With "-l", kmemleak only (boots for one driver's tests: the fuzz and
# the storm exercise the core, which the plain boots cover).
cd /zcbuf/selftests || exit 1
fail=0
if [ "\${1:-}" != -l ]; then
	insmod /zcbuf/zcbuf.ko || exit 1
	insmod /zcbuf/zcbuf_sim.ko || exit 1
	echo "# check-debug: zcbuf_fuzz -s $seed -n $fuzz_ops"
	echo "zcbuf-selftest: start long-fuzz" >/dev/kmsg
	./zcbuf_fuzz -s $seed -n $fuzz_ops -t 4 -c 3 || fail=1
	echo "zcbuf-selftest: end long-fuzz" >/dev/kmsg
	echo "# check-debug: zcbuf_stress -s $seed $stress_opts"
	./zcbuf_stress -s $seed $stress_opts || fail=1
	rmmod zcbuf_sim || fail=1
	rmmod zcbuf || fail=1
fi
# Two scans: a fresh leak is only reported by the second.
echo scan >/sys/kernel/debug/kmemleak
sleep 1
echo scan >/sys/kernel/debug/kmemleak
leaks=\$(grep -c '^unreferenced object' /sys/kernel/debug/kmemleak)
echo "# zcbuf-kmemleak: \$leaks"
if [ "\$leaks" -gt 0 ]; then
	head -n 80 /sys/kernel/debug/kmemleak | sed 's/^/# kmemleak: /'
	fail=1
fi
echo "# check-debug-extra: \$([ \$fail = 0 ] && echo pass || echo fail)"
exit \$fail
EOF

# Boot-time kmemleak reports are not ours: forget them before the tests.
guest_cmd='if [ -w /sys/kernel/debug/kmemleak ]; then
	echo scan >/sys/kernel/debug/kmemleak; echo clear >/sys/kernel/debug/kmemleak
else
	echo "# kmemleak is not available in this kernel"; exit 1
fi
rc=0
sh /zcbuf/selftests/run_guest.sh -m /zcbuf/zcbuf.ko -d /zcbuf/zcbuf_sim.ko -d /zcbuf/zcbuf_edu.ko @DRIVERS@ @TESTS@ || rc=1
sh /zcbuf/guest-extra.sh @EXTRA@ || rc=1
exit $rc'

mods=()
for m in $guest_modules; do mods+=(-m "$m"); done

pass=0 fail=0 skip=0 calls=0 faults=0 killed=0 leaks=0
problems=() unmeasured=()
for b in "${boots[@]}"; do
	IFS='|' read -r bcmd bqemu btests <<<"$b"
	btests=${btests:-$tests}
	args=()
	name=
	if [ -n "$bcmd" ] && [ "$bcmd" != - ]; then
		args+=(-a "$bcmd")
		name=${bcmd//[^A-Za-z0-9_.=-]/_}
	fi
	if [ -n "$bqemu" ]; then
		args+=(-Q "$bqemu")
		devs=$(grep -oE -- '-(device|machine) [^ ,]+' <<<"$bqemu" | awk '{ print $2 }' | tr '\n' '+')
		name="${name:+$name-}${devs%+}"
	fi
	name=${name:-plain}
	# The virtio-net boots load zcbuf_virtio_net too, and check its
	# tests for leaks without the long fuzz and the storm.
	vnet=() vnetd= extra=
	if [[ " $bqemu " == *" -device virtio-net-pci,"* ]]; then
		vnet=(-f "$vnetko:/zcbuf/zcbuf_virtio_net.ko")
		vnetd="-d /zcbuf/zcbuf_virtio_net.ko"
		extra=-l
	fi
	cmd=${guest_cmd//@TESTS@/$btests}
	cmd=${cmd//@EXTRA@/$extra}
	hdr "$rel (debug) $b: selftests, fuzz, kill storm, kmemleak"
	t=$(now)
	"$here/qemu-run.sh" -q -k "$tree" "${args[@]}" -t "$timeout_s" \
		-l "$out/$name.console" ${mods[@]+"${mods[@]}"} \
		-f "$ko:/zcbuf/zcbuf.ko" -f "$simko:/zcbuf/zcbuf_sim.ko" \
		-f "$eduko:/zcbuf/zcbuf_edu.ko" ${vnet[@]+"${vnet[@]}"} \
		-f build/selftests:/zcbuf/selftests \
		-f "$out/guest-extra.sh:/zcbuf/guest-extra.sh" \
		-- "${cmd//@DRIVERS@/$vnetd}" 2>&1 | tee "$out/$name.out"
	qrc=${PIPESTATUS[0]}
	timings+=("boot $name: $(since "$t") s (exit $qrc)")

	tot=$(grep -a '^# zcbuf-totals: ' "$out/$name.out" | tail -n 1)
	if [ -n "$tot" ]; then
		p=$(sed 's/.*pass:\([0-9]*\).*/\1/' <<<"$tot")
		f=$(sed 's/.*fail:\([0-9]*\).*/\1/' <<<"$tot")
		s=$(sed 's/.*skip:\([0-9]*\).*/\1/' <<<"$tot")
	else
		p=0 s=0 f=1
		problems+=("$name: the suite did not complete (exit $qrc)")
	fi
	[ "$f" = 0 ] || problems+=("$name: $f selftest failure(s)")
	if grep -aq '^# check-debug-extra: pass' "$out/$name.out"; then
		p=$((p + 1))
	else
		f=$((f + 1))
		problems+=("$name: long fuzz / kill storm / kmemleak failed")
	fi
	if [ "$qrc" != 0 ] && [ "$f" = 0 ]; then
		f=1
		problems+=("$name: guest run failed (exit $qrc): kernel report or crash, see above")
	fi
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))

	# Figures: sum what every program printed.
	sum() { grep -a "$1" "$out/$name.out" | sed "s/.*$1 *\([0-9]*\).*/\1/" |
		awk '{ s += $1 } END { print s + 0 }'; }
	calls=$((calls + $(sum 'zcbuf-fuzz: calls')))
	faults=$((faults + $(sum 'zcbuf-faultinject: fault points injected')))
	killed=$((killed + $(sum 'zcbuf-stress: processes killed')))
	l=$(grep -a '^# zcbuf-kmemleak: ' "$out/$name.out" | tail -n 1 | sed 's/.*: //')
	if [ -n "$l" ]; then
		leaks=$((leaks + l))
	else
		unmeasured+=("$name")
	fi
done

hdr "summary"
echo "debug kernel: $tree ($rel), bzImage $(du -h "$tree/arch/x86/boot/bzImage" | cut -f1), tree $(du -sh "$tree" 2>/dev/null | cut -f1)"
printf '%s\n' "${timings[@]}"
echo "calls fuzzed: $calls"
echo "fault points injected: $faults"
echo "processes killed: $killed"
echo "leaks: $leaks${unmeasured[*]:+ (kmemleak not reached on: ${unmeasured[*]})}"
echo "seed: $seed (ZCBUF_DEBUG_SEED=$seed to replay)"
[ ${#problems[@]} -eq 0 ] || printf 'FAILED: %s\n' "${problems[@]}"
echo "logs: $out/"
echo "$pass passed, $fail failed$([ "$skip" = 0 ] || echo ", $skip skipped")"
[ "$fail" = 0 ] && [ "$leaks" = 0 ] && [ ${#unmeasured[@]} = 0 ]
