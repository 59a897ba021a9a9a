#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# zcbuf-capture's command line and exit status, on the host (no module
# needed): what --help and zcbuf-capture(1) promise.  Streaming (-v lines,
# --stream-to -) needs the module and is tried in the guest (make demo,
# ZCBUF_DEMO_ARGS).
#
#   apps/tests/cli.sh [PATH-TO-zcbuf-capture]    (default build/apps/zcbuf-capture)
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
app=${1:-$top/build/apps/zcbuf-capture}
export LD_LIBRARY_PATH="$top/build/userlib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0 n=0

# expect STATUS "description" ARGS...: exit status and, with GREP set, a line
expect() {
	want=$1 what=$2
	shift 2
	n=$((n + 1))
	"$app" "$@" >"$tmp/out" 2>"$tmp/err"
	got=$?
	if [ "$got" != "$want" ]; then
		echo "not ok $n $what: exit $got, want $want"; sed 's/^/# /' "$tmp/err" | head -n 5
		fail=$((fail + 1))
	elif [ -n "${GREP:-}" ] && ! grep -q -- "$GREP" "$tmp/out" "$tmp/err"; then
		echo "not ok $n $what: no '$GREP' in the output"
		fail=$((fail + 1))
	else
		echo "ok $n $what"
	fi
	GREP=
}

missing=/nonexistent/zcbuf
GREP="Exit status" expect 0 "--help exits 0 and lists the exit status" --help
GREP="^zcbuf-capture $(cat "$top/VERSION")\$" expect 0 "--version prints VERSION" --version
expect 2 "unknown option: 2" --no-such-option
expect 2 "extra argument: 2" extra
expect 2 "bad number: 2" --frames x
expect 2 "bad personality: 2" -p tv
expect 2 "--stream-to with another sink: 2" --stream-to - --sink png
expect 2 "--stream-to - --direct: 2" --stream-to - --direct
expect 2 "--strict --ring: 2" --strict --ring
GREP="module loaded" expect 3 "missing node: 3, says to load the module" --path $missing --frames 1
GREP="module loaded" expect 3 "-d with a / is a node" -d $missing --frames 1
# A node nobody may open (as root: EACCES cannot happen, so skip).
if [ "$(id -u)" != 0 ]; then
	: >"$tmp/node"; chmod 000 "$tmp/node"
	GREP="usermod -aG video" expect 3 "Permission denied: 3, says what to do" --path "$tmp/node" --frames 1
fi
if ! ls /dev/zcbuf* >/dev/null 2>&1; then
	expect 3 "--list-devices without a device: 3" --list-devices
fi
echo "# cli: $n checks, $fail failed"
[ "$fail" = 0 ]
