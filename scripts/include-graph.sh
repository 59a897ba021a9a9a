#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The layering of kmod/ has no cycle: files that include each other's
# headers, directly or through others, fail this check.
#
# A unit is a file group, named by its path under kmod/ without the
# extension: zcbuf_queue.c and zcbuf_queue.h are the unit zcbuf_queue.  An
# edge goes from a unit to every other unit whose header one of its files
# includes ("..." includes, looked up next to the file, then in kmod/, as
# kbuild's -I does).  tsort(1) orders the graph, or names a loop and fails.
#
#   scripts/include-graph.sh [-v] [KMOD_DIR]   -v prints the edges
#   scripts/include-graph.sh --self-test        the check itself: it must
#                                               pass a layered tree and fail
#                                               one with a cycle
set -eu

if [ "${1:-}" = --self-test ]; then
	t=$(mktemp -d)
	trap 'rm -rf "$t"' EXIT
	mkdir -p "$t/ok/drv" "$t/cycle"
	# core <- queue <- ctx, and a driver folder using the core's header.
	printf '#include "core.h"\n' >"$t/ok/queue.c"
	printf '#include "queue.h"\n#include "core.h"\n' >"$t/ok/ctx.c"
	printf '#include "core.h"\n#include "drv.h"\n' >"$t/ok/drv/drv.c"
	touch "$t/ok/core.h" "$t/ok/core.c" "$t/ok/queue.h" "$t/ok/drv/drv.h"
	# queue.c includes ctx.h, ctx.c includes queue.h: a cycle of two.
	printf '#include "ctx.h"\n' >"$t/cycle/queue.c"
	printf '#include "queue.h"\n' >"$t/cycle/ctx.c"
	touch "$t/cycle/queue.h" "$t/cycle/ctx.h"
	"$0" "$t/ok" >/dev/null ||
		{ echo "include-graph: self-test: a layered tree failed" >&2; exit 1; }
	if "$0" "$t/cycle" >/dev/null 2>&1; then
		echo "include-graph: self-test: a cycle passed" >&2
		exit 1
	fi
	echo "include-graph: self-test: a layered tree passes, a cycle fails"
	exit 0
fi

verbose=
[ "${1:-}" = -v ] && { verbose=1; shift; }
kmod=${1:-kmod}
[ -d "$kmod" ] || { echo "include-graph: $kmod: no such directory" >&2; exit 2; }

edges=$(mktemp)
trap 'rm -f "$edges"' EXIT

# A file's unit: its path under KMOD_DIR without the extension.
unit_of() {
	u=$(realpath -m --relative-to="$kmod" "$1")
	echo "${u%.*}"
}

find "$kmod" -name '*.[ch]' | sort | while read -r f; do
	dir=$(dirname "$f")
	unit=$(unit_of "$f")
	# Every unit is a node, also one that includes nothing of ours.
	echo "$unit $unit"
	sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f" |
	while read -r h; do
		if [ -e "$dir/$h" ]; then
			t=$dir/$h
		elif [ -e "$kmod/$h" ]; then
			t=$kmod/$h
		else
			echo "include-graph: $f includes \"$h\", which is not in $kmod" >&2
			exit 1
		fi
		t=$(unit_of "$t")
		[ "$t" = "$unit" ] || echo "$unit $t"
	done
done >"$edges"

[ -z "$verbose" ] || grep -v '^\([^ ]*\) \1$' "$edges" | sort -u

# tsort reports a loop on stderr and exits non-zero.
if ! order=$(tsort "$edges" 2>&1 >/dev/null); then
	echo "include-graph: $kmod has an include cycle:" >&2
	echo "$order" | sed -e "s|^tsort: $edges: input contains a loop:|loop:|" \
		-e 's/^tsort: /  /' >&2
	exit 1
fi
echo "include-graph: $(sort -u "$edges" | awk '$1 != $2' | wc -l) edges between $(cut -d' ' -f1 "$edges" | sort -u | wc -l) units of $kmod, no cycle"
