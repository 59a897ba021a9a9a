#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make check: for each kernel (6.1, 6.12 and the newest Debian serves) build
# the module with W=1 (any warning fails), build the selftests, then boot
# each boot profile (normal and swiotlb=force), insmod, run every selftest,
# rmmod and scan the kernel log.
# Prints the KTAP of every run and, last, "N passed, N failed[, N skipped]".
#
# Environment:
#   ZCBUF_CHECK_KERNELS   kernels to test (default "6.1 6.12 newest"); an entry
#                         can also be a built kernel tree (e.g. the debug kernel)
#   ZCBUF_CHECK_BOOTS     boot profiles, separated by ";" or, when there is
#                         no ";", by "," (QEMU arguments may hold commas:
#                         then use ";"). Default: "-", "swiotlb=force", three
#                         edu boots and a virtio-net boot, see below.
#                         A profile is
#                         CMDLINE[|QEMU-ARGS[|TESTS]]: extra kernel command line
#                         ("-" for none), extra QEMU arguments (e.g. devices)
#                         and the tests to run in that boot (default: all, or
#                         ZCBUF_CHECK_TESTS)
#   ZCBUF_CHECK_TESTS     selftest programs to run (default: all of them)
#   ZCBUF_CHECK_EDU_KERNELS  kernels that get the default edu boots (default
#                         "6.1 6.12 newest": all of them; names as in
#                         ZCBUF_CHECK_KERNELS)
#   ZCBUF_CHECK_EDU_SUITE_KERNELS  kernels whose edu boots also run the
#                         generic suites against edu (the PROGRAM@edu0
#                         tests; default "6.1 6.12"; about 2.5 minutes of
#                         guest time a kernel)
#   ZCBUF_CHECK_VNET_KERNELS  kernels that get the virtio-net boot (default
#                         "6.12 newest"; names as in ZCBUF_CHECK_KERNELS)
#   ZCBUF_CHECK_TIMEOUT   seconds per boot before the guest counts as hung
#                         (default 900)
#   ZCBUF_CHECK_MODULES   Debian kernel modules put in the guest for
#                         modprobe (default "vivid vgem loop": V4L2 and DRM
#                         peers, and a block device for the O_DIRECT test)
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
cd "$top" || exit 1

kernels=${ZCBUF_CHECK_KERNELS:-6.1 6.12 newest}
# QEMU's edu device (zcbuf_edu.ko) in three more boots: a 256 MiB guest
# without an IOMMU (all RAM within edu's 28-bit DMA mask: a 1 GiB guest
# has no swiotlb pool below it), the same with swiotlb=force (edu reads and
# writes bounce buffers: the coherency tests), and a 1 GiB q35 guest behind
# intel-iommu (edu gets IOVAs; the simulator, a platform device, stays on
# dma-direct). edu moves ~10 chunks of 4 KiB a second, so its boots run the
# edu tests, a few quick ones, and the streaming, ring, coherency and
# fence suites against edu (PROGRAM@edu0: ZCBUF_TEST_DEVICE=edu0, small
# frames, few of them; see selftests/zcbuf_helpers.h): the fences with and
# without an IOMMU, strict mode and TX without, coherency where every
# mapping bounces, streaming (a minute) and the ring behind the IOMMU.
edu_tests="zcbuf_edu zcbuf_devices zcbuf_interop_fence@edu0"
edu_tests+=" zcbuf_stream_strict@edu0 zcbuf_stream_nic@edu0"
swiotlb_edu_tests="zcbuf_edu zcbuf_stream_coherency@edu0"
iommu_tests="zcbuf_edu zcbuf_devices zcbuf_basic zcbuf_buffers zcbuf_mmap zcbuf_import"
iommu_tests+=" zcbuf_stream@edu0 zcbuf_ring@edu0 zcbuf_interop_fence@edu0"
default_boots="-;swiotlb=force"
default_boots+=";-|-m 256M -device edu|$edu_tests"
default_boots+=";swiotlb=8192 swiotlb=force|-m 256M -device edu|$swiotlb_edu_tests"
default_boots+=";intel_iommu=on|-machine q35 -device intel-iommu -device edu|$iommu_tests"
# zcbuf_virtio_net.ko (issue 14): two virtio-net NICs on one QEMU hub; the
# kernel's virtio_net keeps the first (the peer), zcbuf takes the second,
# which must offer VIRTIO_F_ACCESS_PLATFORM (iommu_platform=on, modern
# only).  6.1 has no premapped virtqueues (its test SKIPs): 6.12 and newest.
vnet_qemu="-netdev hubport,id=n0,hubid=0 -device virtio-net-pci,netdev=n0"
vnet_qemu+=" -netdev hubport,id=n1,hubid=0"
vnet_qemu+=" -device virtio-net-pci,netdev=n1,iommu_platform=on,disable-legacy=on"
default_boots+=";-|$vnet_qemu|zcbuf_virtio_net zcbuf_devices"
# The same behind intel-iommu: zcbuf's NIC DMAs to IOVAs of its
# attachment's mapping (the peer, without iommu_platform, bypasses it).
default_boots+=";intel_iommu=on|-machine q35 -device intel-iommu $vnet_qemu|zcbuf_virtio_net"
vnet_kernels=${ZCBUF_CHECK_VNET_KERNELS:-6.12 newest}
boots_spec=${ZCBUF_CHECK_BOOTS:-$default_boots}
if [[ $boots_spec == *";"* ]]; then
	IFS=';' read -r -a boots <<<"$boots_spec"
else
	IFS=, read -r -a boots <<<"$boots_spec"
fi
edu_kernels=${ZCBUF_CHECK_EDU_KERNELS:-6.1 6.12 newest}
edu_suite_kernels=${ZCBUF_CHECK_EDU_SUITE_KERNELS-6.1 6.12}
tests=${ZCBUF_CHECK_TESTS:-}
timeout_s=${ZCBUF_CHECK_TIMEOUT:-900}
guest_modules=${ZCBUF_CHECK_MODULES-vivid vgem loop}
out=build/check

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
hdr() { printf '\n==== %s ====\n' "$*"; }

kfetch=()
for k in $kernels; do [ -d "$k" ] || kfetch+=("$k"); done
[ ${#kfetch[@]} -gt 0 ] || kfetch=(none)
"$here/setup.sh" "${kfetch[@]}" ||
	{ echo "check: setup failed"; echo "0 passed, 1 failed"; exit 1; }

rm -rf "$out"
mkdir -p "$out"
pass=0 fail=0 skip=0
timings=()
problems=()

t=$(now)
hdr "userland: library, apps, selftests"
if ! make --no-print-directory -j2 userlib apps selftests gst ||
   ! make --no-print-directory -C gst guest; then
	problems+=("userland build failed")
	echo "0 passed, 1 failed"
	exit 1
fi
timings+=("userland build: $(since "$t") s")

# What needs no guest: versions agree, library exports, manual pages,
# zcbuf-capture's command line and exit codes, make install. One check.
t=$(now)
hdr "host: make check-host"
if make --no-print-directory check-host; then
	pass=$((pass + 1))
else
	fail=$((fail + 1))
	problems+=("make check-host failed (above)")
fi
timings+=("host checks: $(since "$t") s")

# Both module builds first (in parallel: they do not share a directory), so
# a build problem shows before any boot.
# A kernel is 6.1, 6.12, newest (or its major.minor), a release in the cache,
# or a built kernel tree (a directory: built with KDIR=, booted with
# qemu-run -k DIR).
declare -A built mpid
t=$(now)
for k in $kernels; do
	if [ -d "$k" ]; then kv=(KDIR="$k"); else kv=(KVER="$k"); fi
	make --no-print-directory "${kv[@]}" module-strict >"$out/module-${k//\//_}.log" 2>&1 &
	mpid[$k]=$!
done
for k in $kernels; do
	hdr "module W=1 for $k ($("$here/kver.sh" "$k"))"
	if wait "${mpid[$k]}"; then
		built[$k]=1
		grep -vE '^make\[[0-9]+\]: (Entering|Leaving)' "$out/module-${k//\//_}.log"
	else
		cat "$out/module-${k//\//_}.log"
		problems+=("$k: module build failed or printed warnings")
		fail=$((fail + 1))
	fi
done
timings+=("module builds ($kernels): $(since "$t") s")

mods=()
for m in $guest_modules; do mods+=(-m "$m"); done

for k in $kernels; do
	[ -n "${built[$k]:-}" ] || continue
	if [ -d "$k" ]; then
		ko=$(sed -n 's/^module: \(.*\.ko\) .*/\1/p' "$out/module-${k//\//_}.log" | tail -n 1)
	else
		ko="build/$("$here/kver.sh" "$k")/src/kmod/zcbuf.ko"
	fi
	ko=${ko%% *}
	simko=${ko%/*}/sim/zcbuf_sim.ko
	eduko=${ko%/*}/edu/zcbuf_edu.ko
	vnetko=${ko%/*}/virtio_net/zcbuf_virtio_net.ko
	rel=$("$here/kver.sh" "$k")
	# zcbuf_gst.sh: GStreamer (kernel-independent) and, where it builds,
	# vim2m (Debian's kernels have none) for the v4l2convert import test.
	gstf=(-f build/gst/guest:/zcbuf/gst)
	if [ -z "$tests" ] || [[ " $tests " == *" zcbuf_gst.sh "* ]] ||
	   [[ "${boots[*]}" == *zcbuf_gst.sh* ]]; then
		rm -rf "build/gst/vim2m-$rel"
		"$top/gst/vim2m.sh" "$k" "build/gst/vim2m-$rel" >"$out/vim2m-$rel.log" 2>&1
		case $? in
		0) gstf+=(-f "build/gst/vim2m-$rel:/zcbuf/vim2m") ;;
		3) ;;
		*) cat "$out/vim2m-$rel.log"; problems+=("$rel: building vim2m failed")
		   fail=$((fail + 1)) ;;
		esac
	fi
	for b in "${boots[@]}"; do
		IFS='|' read -r bcmd bqemu btests <<<"$b"
		# The edu boots run on ZCBUF_CHECK_EDU_KERNELS (default: all).
		if [[ " $bqemu " == *" -device edu "* ]] && [ -z "${ZCBUF_CHECK_BOOTS:-}" ] &&
		   [[ " $edu_kernels " != *" $k "* ]]; then
			continue
		fi
		if [[ " $bqemu " == *" -device virtio-net-pci,"* ]] && [ -z "${ZCBUF_CHECK_BOOTS:-}" ] &&
		   [[ " $vnet_kernels " != *" $k "* ]]; then
			continue
		fi
		# The virtio-net boots load zcbuf_virtio_net and virtio_net too.
		vnet=()
		if [[ " $bqemu " == *" -device virtio-net-pci,"* ]]; then
			vnet=(-m virtio_net -f "$vnetko:/zcbuf/zcbuf_virtio_net.ko")
			vnetd=(-d /zcbuf/zcbuf_virtio_net.ko)
		else
			vnetd=()
		fi
		args=()
		name=${k//\//_}
		label=
		if [ -n "$bcmd" ] && [ "$bcmd" != - ]; then
			args+=(-a "$bcmd")
			name="$name-${bcmd//[^A-Za-z0-9_.=-]/_}"
			label=" $bcmd"
		fi
		if [ -n "$bqemu" ]; then
			args+=(-Q "$bqemu")
			devs=$(grep -oE -- '-(device|machine) [^ ,]+' <<<"$bqemu" | awk '{ print $2 }' | tr '\n' '+')
			name="$name-${devs%+}"
			label="$label [qemu: $bqemu]"
		fi
		btests=${btests:-$tests}
		# The generic suites against edu on ZCBUF_CHECK_EDU_SUITE_KERNELS.
		if [[ " $bqemu " == *" -device edu "* ]] && [ -z "${ZCBUF_CHECK_BOOTS:-}" ] &&
		   [[ " $edu_suite_kernels " != *" $k "* ]]; then
			btests=$(tr ' ' '\n' <<<"$btests" | grep -v '@' | tr '\n' ' ')
			btests=${btests% }
		fi
		# A boot that names its tests gets the Debian modules (vivid,
		# vgem, loop) and the GStreamer bundle only when one of them
		# uses them: the 256 MiB edu guests have no room to spare (7.3
		# failed to unpack a 57 MB initramfs there with swiotlb=force).
		bmods=(${mods[@]+"${mods[@]}"})
		bgst=("${gstf[@]}")
		if [ -n "$btests" ] &&
		   ! grep -qwE 'zcbuf_(gup|interop_drm|interop_v4l2|gst\.sh)' <<<"$btests"; then
			bmods=()
			bgst=()
		fi
		hdr "$rel$label: selftests${btests:+ ($btests)}"
		t=$(now)
		"$here/qemu-run.sh" -q -k "$k" "${args[@]}" -t "$timeout_s" \
			-l "$out/$name.console" ${bmods[@]+"${bmods[@]}"} \
			-f "$ko:/zcbuf/zcbuf.ko" -f "$simko:/zcbuf/zcbuf_sim.ko" \
			-f "$eduko:/zcbuf/zcbuf_edu.ko" ${vnet[@]+"${vnet[@]}"} \
			-f build/selftests:/zcbuf/selftests ${bgst[@]+"${bgst[@]}"} \
			-- sh /zcbuf/selftests/run_guest.sh -m /zcbuf/zcbuf.ko \
			-d /zcbuf/zcbuf_sim.ko -d /zcbuf/zcbuf_edu.ko \
			${vnetd[@]+"${vnetd[@]}"} $btests 2>&1 |
			tee "$out/$name.out"
		qrc=${PIPESTATUS[0]}
		# qemu-run's own figure excludes waiting for the QEMU lock.
		g=$(grep -a '^qemu-run: .* after [0-9.]* s' "$out/$name.out" | tail -n 1 |
			sed 's/.* after \([0-9.]*\) s.*/\1/')
		timings+=("boot $rel$label: guest ${g:-?} s, $(since "$t") s with build of the initramfs and lock wait (exit $qrc)")
		tot=$(grep -a '^# zcbuf-totals: ' "$out/$name.out" | tail -n 1)
		if [ -n "$tot" ]; then
			p=$(sed 's/.*pass:\([0-9]*\).*/\1/' <<<"$tot")
			f=$(sed 's/.*fail:\([0-9]*\).*/\1/' <<<"$tot")
			s=$(sed 's/.*skip:\([0-9]*\).*/\1/' <<<"$tot")
		else
			p=0 s=0 f=1
			problems+=("$name: the run did not complete (exit $qrc)")
		fi
		if [ "$qrc" != 0 ] && [ "$f" = 0 ]; then
			f=1
			problems+=("$name: guest run failed (exit $qrc): see above")
		elif [ "$f" != 0 ] && [ -n "$tot" ]; then
			problems+=("$name: $f failure(s)")
		fi
		# Name what failed, with the harness's assertion lines: CI keeps
		# only the end of this output.
		if [ "$f" != 0 ]; then
			while IFS= read -r l; do
				problems+=("  $name: $l")
			done < <(grep -a -E '^(# (# )?)?(not ok [0-9]+ |.*:Expected |.*: Test terminated|[^ ]+: (timed out|exit status|kernel log shows))|^#   [^ ]' \
					"$out/$name.out" | grep -av '# SKIP' |
				sed -e 's/^# \(# \)\?//' -e 's|^[^ ]*/||' | head -n 12)
		fi
		pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
	done
done

hdr "summary"
printf '%s\n' "${timings[@]}"
[ ${#problems[@]} -eq 0 ] || printf 'FAILED: %s\n' "${problems[@]}"
echo "logs: $out/"
echo "$pass passed, $fail failed$([ "$skip" = 0 ] || echo ", $skip skipped")"
[ "$fail" = 0 ]
