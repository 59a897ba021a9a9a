#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# zcbuf has one version, MAJOR.MINOR.PATCH in VERSION at the top:
#   - MAJOR.MINOR is the ABI version of uapi/linux/zcbuf.h
#     (ZCBUF_API_VERSION_MAJOR/MINOR) and of libzcbuf
#     (LIBZCBUF_VERSION_MAJOR/MINOR; soname libzcbuf.so.MAJOR);
#   - MAJOR.MINOR.PATCH is the module's MODULE_VERSION (kmod/Kbuild reads
#     VERSION), the library's file name and pkg-config version
#     (userlib/Makefile reads it), zcbuf-capture --version, the DKMS
#     PACKAGE_VERSION (dkms.conf), the Debian version (debian/changelog) and
#     the manual pages' headers (man/).
# A release that changes neither ABI nor library bumps PATCH.
#
#   scripts/version.sh check     every place agrees with VERSION, and dkms.conf
#                                lists every module kmod/Kbuild builds (exit 1
#                                if not)
#   scripts/version.sh set X.Y.Z write X.Y.Z everywhere (the uapi and library
#                                headers included), then check
set -eu
cd "$(dirname "$0")/.."

die() { echo "version: $*" >&2; exit 1; }

define() { sed -n "s/^#define[[:space:]]\{1,\}$1[[:space:]]\{1,\}\([0-9]\{1,\}\).*/\1/p" "$2"; }

check() {
	v=$(cat VERSION)
	echo "$v" | grep -Eq '^[0-9]+\.[0-9]+\.[0-9]+$' || die "VERSION: '$v' is not MAJOR.MINOR.PATCH"
	major=${v%%.*}; rest=${v#*.}; minor=${rest%%.*}
	bad=0
	want() { # what file found expected
		if [ "$3" != "$4" ]; then
			echo "version: $1: $2 is '$3', should be '$4'" >&2
			bad=1
		fi
	}
	want uapi/linux/zcbuf.h ZCBUF_API_VERSION_MAJOR "$(define ZCBUF_API_VERSION_MAJOR uapi/linux/zcbuf.h)" "$major"
	want uapi/linux/zcbuf.h ZCBUF_API_VERSION_MINOR "$(define ZCBUF_API_VERSION_MINOR uapi/linux/zcbuf.h)" "$minor"
	want userlib/include/zcbuf/libzcbuf.h LIBZCBUF_VERSION_MAJOR \
		"$(define LIBZCBUF_VERSION_MAJOR userlib/include/zcbuf/libzcbuf.h)" "$major"
	want userlib/include/zcbuf/libzcbuf.h LIBZCBUF_VERSION_MINOR \
		"$(define LIBZCBUF_VERSION_MINOR userlib/include/zcbuf/libzcbuf.h)" "$minor"
	want dkms.conf PACKAGE_VERSION "$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' dkms.conf)" "$v"
	if [ -f debian/changelog ]; then
		want debian/changelog version "$(sed -n '1s/^[^ ]* (\([^)]*\)).*/\1/p' debian/changelog)" "$v"
	fi
	for f in man/*.[0-9]; do
		[ -f "$f" ] || continue
		want "$f" ".TH version" "$(sed -n 's/^\.TH .*"zcbuf \([^"]*\)".*/\1/p' "$f")" "$v"
	done
	grep -q "^LIBZCBUF_$major\.0 {" userlib/libzcbuf.map ||
		{ echo "version: userlib/libzcbuf.map has no LIBZCBUF_$major.0 node" >&2; bad=1; }
	# Every module kbuild makes is one DKMS installs, and no other.
	# (kmod/Kbuild names the core and the driver folders, each with its own.)
	kos=$(sed -n 's/^obj-m[[:space:]]*[:+]\{0,1\}=[[:space:]]*//p' kmod/Kbuild kmod/*/Kbuild | tr ' ' '\n' |
		sed -n 's/\.o$//p' | sort | tr '\n' ' ' | sed 's/ $//')
	dkms=$(sed -n 's/^BUILT_MODULE_NAME\[[0-9]*\]="\(.*\)"/\1/p' dkms.conf | sort | tr '\n' ' ' | sed 's/ $//')
	want dkms.conf "BUILT_MODULE_NAME[]" "$dkms" "$kos"
	[ "$bad" = 0 ] || exit 1
	echo "version: $v everywhere (ABI and library $major.$minor, soname libzcbuf.so.$major)"
}

case ${1:-check} in
check) check ;;
set)
	v=${2:?usage: version.sh set MAJOR.MINOR.PATCH}
	echo "$v" | grep -Eq '^[0-9]+\.[0-9]+\.[0-9]+$' || die "'$v' is not MAJOR.MINOR.PATCH"
	major=${v%%.*}; rest=${v#*.}; minor=${rest%%.*}
	echo "$v" >VERSION
	sed -i -e "s/^\(#define[[:space:]]\{1,\}ZCBUF_API_VERSION_MAJOR[[:space:]]\{1,\}\)[0-9]\{1,\}/\1$major/" \
		-e "s/^\(#define[[:space:]]\{1,\}ZCBUF_API_VERSION_MINOR[[:space:]]\{1,\}\)[0-9]\{1,\}/\1$minor/" \
		uapi/linux/zcbuf.h
	sed -i -e "s/^\(#define[[:space:]]\{1,\}LIBZCBUF_VERSION_MAJOR[[:space:]]\{1,\}\)[0-9]\{1,\}/\1$major/" \
		-e "s/^\(#define[[:space:]]\{1,\}LIBZCBUF_VERSION_MINOR[[:space:]]\{1,\}\)[0-9]\{1,\}/\1$minor/" \
		userlib/include/zcbuf/libzcbuf.h
	sed -i "s/^PACKAGE_VERSION=\".*\"/PACKAGE_VERSION=\"$v\"/" dkms.conf
	sed -i "s/^\(\.TH .*\)\"zcbuf [^\"]*\"/\1\"zcbuf $v\"/" man/*.[0-9]
	if [ -f debian/changelog ] && ! head -n 1 debian/changelog | grep -q "($v)"; then
		maint=$(sed -n '0,/^ -- /s/^ -- \(.*>\)  .*/\1/p' debian/changelog)
		{ printf 'zcbuf (%s) unstable; urgency=medium\n\n  * New upstream version %s.\n\n -- %s  %s\n\n' \
			"$v" "$v" "$maint" "$(date -R)"; cat debian/changelog; } >debian/changelog.new
		mv debian/changelog.new debian/changelog
	fi
	check ;;
*) die "usage: version.sh check | set MAJOR.MINOR.PATCH" ;;
esac
