#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot a Debian kernel under QEMU/TCG with a busybox initramfs, run one
# command in the guest and return its exit status.
#
# usage: scripts/qemu-run.sh [options] [--] COMMAND...
#   -k KVER       kernel: 6.1, 6.12 (default), newest, 7.3, a release in the
#                 cache (scripts/kernels.sh), or a built kernel tree (its
#                 vmlinux, else arch/x86/boot/bzImage)
#   -K MODROOT    where -m finds modules: MODROOT/lib/modules/<release>
#                 (default: the cached kernel's unpacked packages, or
#                 <tree>/../modroot for a kernel tree)
#   -a ARGS       extra kernel command line (repeatable), e.g. -a swiotlb=force
#   -i            -icount shift=0 (single-threaded TCG, deterministic guest time;
#                 for benchmarks)
#   -t SECONDS    host timeout for the whole boot (default 300); a hung guest
#                 is killed and reported as a failure. A guest that has not
#                 started COMMAND after $ZCBUF_BOOT_TIMEOUT seconds (default
#                 300) hung while booting: it is booted once more
#   -o DIR        bring the guest's /out back into DIR (emptied first)
#   -f SRC[:DST]  copy host file or directory SRC into the guest at DST
#                 (default /zcbuf/<basename>); repeatable
#   -m MODULE     add a module of that kernel from MODROOT/lib/modules/<release> with
#                 its dependencies (then `modprobe MODULE` in the guest)
#   -q            quiet: the console (kernel log) goes to the log file only;
#                 the command's output is still shown
#   -l FILE       console log file (default build/qemu/<release>/console.log)
#   -M SIZE       guest memory (default 1G)
#   -Q ARGS       extra QEMU arguments, split on blanks (repeatable), e.g.
#                 -Q "-machine q35 -device intel-iommu -device edu"
#
# COMMAND runs as `sh -c` in /zcbuf, stdin /dev/null, its stdout and stderr on
# the guest's second serial port (ttyS1, raw), which the host shows live.
# Afterwards the guest dumps its whole kernel log, and the host fails the run
# on any BUG:/WARNING:/Oops/KASAN:/leak/lock-report/Call Trace/... line, and
# on any IOMMU (DMAR) fault outside the windows where a selftest provokes
# one on purpose (scripts/klog-scan.sh), even if COMMAND succeeded.
#
# Exit status: COMMAND's, or 124 when the guest hung (timeout), 125 when the
# guest died without a result (panic, WARN with panic_on_warn, crash), 126 when
# COMMAND succeeded but the kernel log shows a problem.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
CACHE=${ZCBUF_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/zcbuf}
LOCK=/tmp/zcbuf-qemu.lock


kver=6.12 timeout_s=300 outdir= quiet=0 logfile= mem=1G icount=0 modroot=
extra_args=() files=() modules=() qemu_extra=()

usage() { sed -n '4,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }
say() { echo "qemu-run: $*" >&2; }

while getopts "k:K:a:it:o:f:m:ql:M:Q:h" opt; do
	case $opt in
	k) kver=$OPTARG ;;
	K) modroot=$OPTARG ;;
	a) extra_args+=("$OPTARG") ;;
	i) icount=1 ;;
	t) timeout_s=$OPTARG ;;
	o) outdir=$OPTARG ;;
	f) files+=("$OPTARG") ;;
	m) modules+=("$OPTARG") ;;
	q) quiet=1 ;;
	l) logfile=$OPTARG ;;
	M) mem=$OPTARG ;;
	Q) read -r -a q <<<"$OPTARG"; qemu_extra+=("${q[@]}") ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || usage

if [ -d "$kver" ]; then
	# A kernel tree built here (e.g. scripts/debug-kernel.sh): boot its ELF
	# through the PVH note when it has one (owner "Xen" in readelf -n).
	ktree=$(cd "$kver" && pwd)
	rel=$(cat "$ktree/include/config/kernel.release") ||
		{ say "$ktree: not a built kernel tree"; exit 2; }
	if readelf -n "$ktree/vmlinux" 2>/dev/null | grep -q '^ *Xen '; then
		vmlinux=$ktree/vmlinux
	else
		vmlinux=$ktree/arch/x86/boot/bzImage
	fi
	[ -s "$vmlinux" ] || { say "$ktree: no vmlinux or bzImage"; exit 2; }
	[ -n "$modroot" ] || [ ! -d "$ktree/../modroot" ] || modroot=$(cd "$ktree/../modroot" && pwd)
else
	rel=$("$here/kver.sh" "$kver")
	vmlinux="$CACHE/kernels/$rel/vmlinux"
	if [ ! -s "$vmlinux" ]; then
		"$here/kernels.sh" fetch "$kver"
		[ -s "$vmlinux" ] || { say "no $vmlinux (scripts/kernels.sh did not make it)"; exit 2; }
	fi
	[ -n "$modroot" ] || modroot=$CACHE/kernels/$rel/root
fi
modroot=${modroot%/}

# One guest at a time on this machine, for the whole run (the staging
# directory below is shared too).
exec 9>"$LOCK"
if ! flock -n 9; then
	say "waiting for $LOCK (another guest is running)"
	flock 9
fi

run="$top/build/qemu/$rel"
stage="$run/root"
rm -rf "$stage"
mkdir -p "$stage/zcbuf" "$run"
[ -n "$logfile" ] || logfile="$run/console.log"
mkdir -p "$(dirname "$logfile")"
serial="$run/ttyS1.log"
rm -f "$serial" "$logfile"

# --- initramfs -----------------------------------------------------------

INIT_SCRIPT='#!/bin/busybox sh
/bin/busybox --install -s
export PATH=/sbin:/bin:/usr/sbin:/usr/bin HOME=/root
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t debugfs debugfs /sys/kernel/debug
mount -t tmpfs tmpfs /tmp
mkdir -p /dev/shm /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t devpts devpts /dev/pts
hostname zcbuf
exec </dev/null >/dev/console 2>&1
stty -F /dev/ttyS1 raw -echo
exec 3>/dev/ttyS1
echo "@@ZCBUF-START $(uname -r)" >&3
cd /zcbuf
sh /zcbuf/.cmd >&3 2>&3
rc=$?
echo "@@ZCBUF-RC $rc" >&3
if [ -e /zcbuf/.want-out ]; then
	# /out leaves through a virtio-serial port (MB/s) when the kernel
	# has one, else base64 on ttyS1 (about 100 KB/s).
	modprobe virtio_pci 2>/dev/null
	modprobe virtio_console 2>/dev/null
	port=
	for i in 1 2 3 4 5 6 7 8 9 10; do
		for p in /dev/vport*p1; do [ -e "$p" ] && port=$p; done
		[ -n "$port" ] && break
		sleep 0.2
	done
	if [ -n "$port" ] && tar -C /out -cf - . >"$port"; then
		echo "@@ZCBUF-OUT-VIRTIO" >&3
	else
		echo "@@ZCBUF-OUT-BEGIN" >&3
		tar -C /out -cf - . | gzip -1 | base64 >&3
		echo "@@ZCBUF-OUT-END" >&3
	fi
fi
echo "@@ZCBUF-DMESG-BEGIN" >&3
dmesg >&3
echo "@@ZCBUF-DMESG-END" >&3
sync
b=$((rc & 127)); [ $rc -ne 0 ] && [ $b -eq 0 ] && b=1
printf "\\$(printf %o $b)" | dd of=/dev/port bs=1 seek=244 count=1 2>/dev/null
poweroff -f
'

# A newc cpio member for /dev/console (char 5:1): the kernel opens it for
# init's stdio before /init can mount devtmpfs, and cpio run as a normal user
# cannot create device nodes.
console_cpio() {
	local name="dev/console" n
	n=$((${#name} + 1))
	hdr() { printf '070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X' "$@"; }
	{
		hdr 1 $((0040755)) 0 0 2 0 0 0 0 0 0 4 0; printf 'dev\0'; printf '\0\0'
		hdr 2 $((0020600)) 0 0 1 0 0 0 0 5 1 $n 0; printf '%s\0' "$name"
		printf '\0\0'
		hdr 0 0 0 0 1 0 0 0 0 0 0 11 0; printf 'TRAILER!!!\0'
		printf '\0\0\0'
	}
}

base_cpio() {
	local bb=/bin/busybox key dir
	[ -x "$bb" ] || { say "$bb missing (package busybox-static)"; exit 2; }
	readelf -l "$bb" 2>/dev/null | grep -q 'Requesting program interpreter' &&
		{ say "$bb is dynamically linked: install busybox-static"; exit 2; }
	key=$({ stat -c '%s %Y' "$bb"; echo "$INIT_SCRIPT"; } | sha256sum | cut -c1-16)
	base="$CACHE/initramfs/base-$key.cpio"
	[ -s "$base" ] && return 0
	mkdir -p "$CACHE/initramfs"
	dir=$(mktemp -d "$CACHE/initramfs/.base.XXXXXX")
	mkdir -p "$dir"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,out,root,etc,lib/modules}
	cp "$bb" "$dir/bin/busybox"
	printf '%s' "$INIT_SCRIPT" >"$dir/init"
	chmod 755 "$dir/init"
	(cd "$dir" && find . -mindepth 1 | LC_ALL=C sort |
		cpio -o -H newc -R 0:0 --quiet) >"$base.tmp"
	mv "$base.tmp" "$base"
	rm -rf "$dir"
}

add_file() {
	local spec=$1 src dst
	src=${spec%%:*}
	if [ "$src" != "$spec" ]; then dst=${spec#*:}; else dst=/zcbuf/$(basename "$src"); fi
	[ -e "$src" ] || { say "-f $src: no such file"; exit 2; }
	mkdir -p "$stage$(dirname "$dst")"
	cp -aL "$src" "$stage$dst"
	add_libs "$src"
}

# Guest programs should be static; for a dynamically linked one, bring its
# shared libraries and loader along at their host paths.
add_libs() {
	local f lib
	find "$1" -type f -perm -u+x 2>/dev/null | while read -r f; do
		head -c 4 "$f" | grep -q 'ELF' || continue
		readelf -l "$f" 2>/dev/null | grep -q 'Requesting program interpreter' || continue
		ldd "$f" 2>/dev/null | grep -oE '/[^ ]+' | while read -r lib; do
			[ -e "$stage$lib" ] && continue
			mkdir -p "$stage$(dirname "$lib")"
			cp -L "$lib" "$stage$lib"
		done
	done
}

add_modules() {
	local m line path dest
	local moddir="$modroot/lib/modules/$rel" gdir="/lib/modules/$rel"
	[ -r "$moddir/modules.dep" ] || { say "no $moddir/modules.dep (kernel package missing?)"; exit 2; }
	mkdir -p "$stage$gdir"
	for f in modules.order modules.builtin modules.builtin.modinfo; do
		# (empty when the packages lack them, as 7.x's do: depmod warns)
		if [ -e "$moddir/$f" ]; then cp "$moddir/$f" "$stage$gdir/"; else : >"$stage$gdir/$f"; fi
	done
	for m in "${modules[@]}"; do
		if ! modprobe ${modroot:+-d "$modroot"} -S "$rel" --show-depends "$m" >"$run/deps" 2>&1; then
			# Debian's 7.x packages ship no modules.builtin, so a
			# built-in module (virtio_pci there) is "not found": leave
			# it to the guest, whose modprobe knows its built-ins.
			if [ ! -e "$moddir/modules.builtin" ] && grep -q 'not found' "$run/deps"; then
				continue
			fi
			say "-m $m: $(cat "$run/deps")"
			exit 2
		fi
		while read -r kind path _; do
			[ "$kind" = insmod ] || continue
			dest="$stage$gdir/${path#"$moddir"/}"
			dest=${dest%.xz}
			dest=${dest%.zst}
			[ -e "$dest" ] && continue
			mkdir -p "$(dirname "$dest")"
			case $path in
			*.xz)  xz -dc "$path" >"$dest" ;;
			*.zst) zstd -dcq "$path" >"$dest" ;;
			*)     cp "$path" "$dest" ;;
			esac
		done <"$run/deps"
	done
	depmod -b "$stage" "$rel"
}

base_cpio
for f in ${files[@]+"${files[@]}"}; do add_file "$f"; done
[ -z "$outdir" ] || modules+=(virtio_pci virtio_console)
[ ${#modules[@]} -eq 0 ] || add_modules
printf '%s\n' "$*" >"$stage/zcbuf/.cmd"
[ -z "$outdir" ] || : >"$stage/zcbuf/.want-out"
initrd="$run/initrd.cpio"
{
	console_cpio
	cat "$base"
	(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet)
} >"$initrd"

# --- boot ----------------------------------------------------------------

cmdline="console=ttyS0 loglevel=5 log_buf_len=4M panic=-1 oops=panic panic_on_warn=1"
[ ${#extra_args[@]} -eq 0 ] || cmdline="$cmdline ${extra_args[*]}"
if [ "$icount" = 1 ]; then
	accel=(-accel tcg -icount shift=0)
else
	accel=(-accel "tcg,thread=${ZCBUF_TCG_THREAD:-multi}")
fi
qemu=(qemu-system-x86_64 -nographic -no-reboot -m "$mem" -smp 2 -cpu max
	"${accel[@]}" -nic none -kernel "$vmlinux" -initrd "$initrd"
	-append "$cmdline" -serial mon:stdio -serial "file:$serial"
	-device isa-debug-exit,iobase=0xf4,iosize=0x04 -pidfile "$run/qemu.pid"
	${qemu_extra[@]+"${qemu_extra[@]}"})
if [ -n "$outdir" ]; then
	rm -f "$run/out.tar"
	qemu+=(-device virtio-serial-pci,id=vser
		-chardev "file,id=zcout,path=$run/out.tar"
		-device virtserialport,bus=vser.0,chardev=zcout,name=zcbuf.out)
fi
echo "${qemu[*]}" >"$run/qemu.cmd"
cmd1=${*%%$'\n'*}
[ "$cmd1" = "$*" ] || cmd1="$cmd1 ..."
say "booting $rel${extra_args[*]:+ with ${extra_args[*]}}$([ $icount = 1 ] && echo ' (icount)'): $cmd1"

# Show the command's output (ttyS1) live, without the bulk sections.
show_serial() {
	# A status line redrawn with \r shows as one line per update.
	tail -n +1 -s 0.2 --pid="$1" -f "$serial" 2>/dev/null | awk -v RS='\r\n|\r|\n' '
		/^@@ZCBUF-(OUT|DMESG)-BEGIN/ { skip = 1; next }
		/^@@ZCBUF-(OUT|DMESG)-END/   { skip = 0; next }
		/^@@ZCBUF-/ { next }
		!skip { print; fflush() }'
}

# A guest whose kernel has not started COMMAND after boot_timeout seconds
# hung while booting (seen once in ~40 boots of 7.3 on a loaded host, right
# after "tsc: Unable to calibrate against PIT"): stop it rather than wait
# for the whole run's timeout, and boot once more (below).
boot_timeout=${ZCBUF_BOOT_TIMEOUT:-300}
[ "$boot_timeout" -lt "$timeout_s" ] || boot_timeout=$timeout_s
boot_watchdog() {
	local i=0
	rm -f "$run/boot-hang"
	while kill -0 "$1" 2>/dev/null; do
		grep -aq '^@@ZCBUF-START' "$serial" 2>/dev/null && return 0
		if [ $i -ge $((boot_timeout * 2)) ]; then
			: >"$run/boot-hang"
			kill "$(cat "$run/qemu.pid" 2>/dev/null)" 2>/dev/null
			return 0
		fi
		sleep 0.5
		i=$((i + 1))
	done
}

# Multi-threaded TCG very rarely crashes the guest kernel while it patches
# its own code during boot (seen once in ~60 boots of 6.12: "Oops: int3" in
# enqueue_timer, an unhandled text_poke_bp breakpoint, before any module was
# loaded). A guest that dies before COMMAND started cannot be zcbuf's fault:
# boot once more, and say so. Any death after the start counts.
for attempt in 1 2; do
	: >"$serial"
	t0=$(date +%s.%N)
	rm -f "$run/qemu.status"
	set +e
	{
		timeout -k 5 "$timeout_s" "${qemu[@]}" </dev/null 2>"$run/qemu.stderr"
		echo $? >"$run/qemu.status"
	} | tr -d '\r' | { if [ $quiet = 1 ]; then cat >"$logfile"; else tee "$logfile"; fi; } &
	qpid=$!
	boot_watchdog $qpid &
	wpid=$!
	show_serial $qpid
	wait $qpid
	kill $wpid 2>/dev/null
	wait $wpid 2>/dev/null
	set -e
	t1=$(date +%s.%N)
	secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')

	# isa-debug-exit makes QEMU exit with (v << 1) | 1; a panic (panic=-1 with
	# -no-reboot) exits 0, and timeout(1) gives 124 (137 after its KILL).
	qstatus=$(cat "$run/qemu.status" 2>/dev/null || echo 255)
	rc_line=$(grep -a '^@@ZCBUF-RC ' "$serial" | tail -n 1 || true)
	status=ok
	if [ -e "$run/boot-hang" ]; then
		status=boot-hang
	elif [ "$qstatus" = 124 ] || [ "$qstatus" = 137 ]; then
		status=timeout
	elif [ -z "$rc_line" ] || [ $((qstatus & 1)) = 0 ]; then
		if grep -aq 'Kernel panic' "$logfile"; then status=panic; else status=died; fi
	fi
	if [ "$status" != ok ] && [ "$status" != timeout ] && [ $attempt = 1 ] &&
	   ! grep -aq '^@@ZCBUF-START' "$serial"; then
		cp "$logfile" "$logfile.boot-crash"
		if [ "$status" = boot-hang ]; then
			say "guest kernel hung during boot: no COMMAND after $boot_timeout s (console kept in $logfile.boot-crash; last line: $(tail -n 1 "$logfile" | cut -c1-100))"
		else
			say "guest kernel died during boot, before COMMAND started ($status; console kept in $logfile.boot-crash):"
		fi
		"$here/klog-scan.sh" "$logfile" | head -n 3 | sed 's/^/qemu-run:   /' >&2 || true
		say "retrying the boot once"
		continue
	fi
	break
done

# Scan the whole kernel log: the dmesg dump from ttyS1 plus the console
# (which alone survives a panic or a hang).
sed -n '/^@@ZCBUF-DMESG-BEGIN/,/^@@ZCBUF-DMESG-END/p' "$serial" | sed '1d;$d' >"$run/dmesg.log"
bad=$("$here/klog-scan.sh" "$run/dmesg.log" "$logfile" | awk '!seen[$0]++' | head -n 20 || true)

if [ -n "$outdir" ] && [ $status = ok ]; then
	rm -rf "$outdir"
	mkdir -p "$outdir"
	if grep -aq '^@@ZCBUF-OUT-VIRTIO' "$serial"; then
		tar -xf "$run/out.tar" -C "$outdir"
	else
		sed -n '/^@@ZCBUF-OUT-BEGIN/,/^@@ZCBUF-OUT-END/p' "$serial" | sed '1d;$d' |
			base64 -d | tar -xz -C "$outdir"
	fi || {
		say "FAIL: could not unpack the guest's /out into $outdir"
		status=died
	}
fi

if [ -s "$run/qemu.stderr" ]; then
	grep -v '^$' "$run/qemu.stderr" | sed 's/^/qemu-run: qemu: /' >&2 || true
fi

case $status in
timeout)
	say "FAIL: guest hung: killed after ${timeout_s} s ($rel); console: $logfile"
	exit 124 ;;
boot-hang)
	say "FAIL: guest hung twice during boot, before COMMAND started ($rel); console: $logfile"
	exit 124 ;;
panic|died)
	say "FAIL: guest died without a result ($status, QEMU exit $qstatus) after ${secs} s ($rel); console: $logfile"
	[ -z "$bad" ] || { echo "$bad" | sed 's/^/qemu-run:   /' >&2; }
	tail -n 30 "$logfile" | sed 's/^/qemu-run:   | /' >&2
	exit 125 ;;
esac

rc=${rc_line#@@ZCBUF-RC }
if [ -n "$bad" ]; then
	say "FAIL: the guest kernel log has problems ($rel); full log: $run/dmesg.log"
	echo "$bad" | sed 's/^/qemu-run:   /' >&2
	[ "$rc" != 0 ] || rc=126
	exit "$rc"
fi
say "$rel: command exited $rc after ${secs} s${outdir:+, /out in $outdir}"
exit "$rc"
