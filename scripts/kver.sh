#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Print the kernel release for a kernel name: 6.1, 6.12, newest or its
# major.minor (e.g. 7.3): the Debian kernel scripts/kernels.sh put in the
# cache (fetching it first when it is missing); a full release string in the
# cache; or a built kernel tree.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
CACHE=${ZCBUF_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/zcbuf}
k=${1:-6.12}
if [ -d "$k" ] && [ -r "$k/include/config/kernel.release" ]; then
	cat "$k/include/config/kernel.release"
	exit 0
fi
if [ ! -L "$CACHE/kernels/$k" ] && [ ! -d "$CACHE/kernels/$k" ]; then
	case $k in
	6.1|6.12|newest|[7-9].*|[1-9][0-9].*) "$here/kernels.sh" fetch "$k" >&2 || exit 1 ;;
	esac
fi
if [ -L "$CACHE/kernels/$k" ]; then
	readlink "$CACHE/kernels/$k"
elif [ -d "$CACHE/kernels/$k" ]; then
	echo "$k"
else
	echo "kver: unknown kernel '$k' (use 6.1, 6.12, newest, a release in $CACHE/kernels or a kernel tree)" >&2
	exit 1
fi
