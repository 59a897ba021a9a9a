#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Print the kernel release for KVER=6.1|6.12 (the newest matching Debian
# kernel in /boot), a full release string, or a built kernel tree.
set -eu
case ${1:-6.12} in
6.1)  pat='6.1.0-*-amd64' ;;
6.12) pat='6.12.*-amd64' ;;
*)    if [ -d "$1" ] && [ -r "$1/include/config/kernel.release" ]; then
		cat "$1/include/config/kernel.release"; exit 0
      fi
      [ -e "/boot/vmlinuz-$1" ] || [ -d "/lib/modules/$1" ] || {
		echo "kver: unknown kernel '$1' (use 6.1, 6.12, a release in /boot or a kernel tree)" >&2; exit 1; }
      echo "$1"; exit 0 ;;
esac
r=$(cd /boot 2>/dev/null && ls -d vmlinuz-$pat 2>/dev/null | sed 's/^vmlinuz-//' | sort -V | tail -n 1)
[ -n "$r" ] || { echo "kver: no /boot/vmlinuz-$pat (run scripts/setup.sh)" >&2; exit 1; }
echo "$r"
