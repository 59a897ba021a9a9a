#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The layering of kmod/ has no cycle: files that include each other's
# headers, directly or through others, fail this check.
#
# A unit is a file group: zcbuf_queue.c and zcbuf_queue.h are one unit,
# kmod/zcbuf_queue.  An edge goes from a unit to every other unit whose
# header one of its files includes ("..." includes, looked up next to the
# file, then in kmod/, as kbuild's -I does).  tsort(1) orders the graph,
# or names a loop and fails.
#
#   scripts/include-graph.sh [-v] [KMOD_DIR]   -v prints the edges
set -eu

verbose=
[ "${1:-}" = -v ] && { verbose=1; shift; }
kmod=${1:-kmod}
[ -d "$kmod" ] || { echo "include-graph: $kmod: no such directory" >&2; exit 2; }

edges=$(mktemp)
trap 'rm -f "$edges"' EXIT

find "$kmod" -name '*.[ch]' | sort | while read -r f; do
	dir=$(dirname "$f")
	unit=${f%.*}
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
		t=$(realpath -m --relative-to=. "$t")
		t=${t%.*}
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
