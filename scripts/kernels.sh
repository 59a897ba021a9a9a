#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Debian's kernels for the guests, downloaded and unpacked into the cache;
# nothing is installed into the host's /boot, /lib/modules or /usr/src.
#
# usage: scripts/kernels.sh [fetch] [KERNEL...]    (default: 6.1 6.12 newest)
#        scripts/kernels.sh list
#
#   6.1     linux-image-amd64 / linux-headers-amd64 of Debian 12 (bookworm)
#   6.12    linux-image-6.12-amd64 / linux-headers-6.12-amd64 of Debian 12
#   newest  linux-image-amd64 / linux-headers-amd64 of trixie-backports: the
#           newest kernel Debian serves (7.3.x on 2026-11-29); it follows new
#           uploads, and is also reachable by its major.minor (e.g. 7.3)
#
# Packages come with `apt-get download` (bookworm's from the host's own apt
# sources, trixie-backports' through a private apt configuration in the
# cache that reuses the host's Debian mirror) and are unpacked with
# `dpkg-deb -x`. Per kernel, in $CACHE/kernels/<release>/:
#   root/        the unpacked packages (modules in root/lib/modules/<release>,
#                depmod'ed; headers in root/usr/src; absolute links rewritten)
#   build        -> the headers tree: KDIR for out-of-tree builds
#   vmlinuz      the kernel image; vmlinux its uncompressed ELF (PVH boot)
#   make.args    extra kbuild variables this host's compiler needs (newest:
#                headers made by a newer gcc than Debian 12's)
#   packages     the package files it was made from (the stamp; checked
#                against apt at most once a day)
# and $CACHE/kernels/<alias> -> <release> for 6.1, 6.12, newest, <major.minor>.
#
# A kernel whose headers were built by a newer toolchain (glibc, gcc) gets
# its host tools (fixdep, modpost, objtool, genksyms, ...) rebuilt from its
# own linux-source package with this machine's gcc, once.
set -euo pipefail

CACHE=${ZCBUF_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/zcbuf}
KC=$CACHE/kernels
APTDIR=$CACHE/apt

die() { echo "kernels: error: $*" >&2; exit 1; }
log() { echo "kernels: $*" >&2; }

# --- apt ------------------------------------------------------------------

# The host's Debian mirror, from its apt sources (deb822 or one-line form).
debian_mirror() {
	local u
	[ -n "${ZCBUF_DEBIAN_MIRROR:-}" ] && { echo "$ZCBUF_DEBIAN_MIRROR"; return; }
	u=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null |
		awk '/^URIs:/ { for (i = 2; i <= NF; i++) print $i }' |
		grep -E '/debian/?$' | head -n 1) || true
	[ -n "$u" ] || u=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
		awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; break } }' |
		grep -E '/debian/?$' | head -n 1) || true
	[ -n "$u" ] || die "no Debian mirror in the host's apt sources (set ZCBUF_DEBIAN_MIRROR)"
	echo "${u%/}"
}

# apt for trixie-backports, private to the cache: its own sources, lists and
# archives; the host's apt state is only read.
bpo_apt=()
bpo_setup() {
	[ ${#bpo_apt[@]} -eq 0 ] || return 0
	local kr=/usr/share/keyrings/debian-archive-keyring.gpg
	mkdir -p "$APTDIR/lists/partial" "$APTDIR/archives/partial"
	echo "deb [signed-by=$kr] $(debian_mirror) trixie-backports main" >"$APTDIR/sources.list"
	bpo_apt=(-o "Dir::Etc::SourceList=$APTDIR/sources.list"
		-o Dir::Etc::SourceParts=/dev/null
		-o "Dir::State::Lists=$APTDIR/lists"
		-o "Dir::Cache=$APTDIR" -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache=
		-o APT::Sandbox::User=root -q)
	# Refresh at most once a day: the kernel it picks follows new uploads.
	if [ -z "$(find "$APTDIR/lists" -maxdepth 1 -name '*_Packages*' -mtime -1 2>/dev/null)" ]; then
		log "apt-get update (trixie-backports, private lists in $APTDIR)"
		apt-get "${bpo_apt[@]}" update >"$APTDIR/update.log" 2>&1 ||
			{ cat "$APTDIR/update.log" >&2; die "apt-get update for trixie-backports failed"; }
	fi
}

host_apt=(-o APT::Sandbox::User=root -q)
host_apt_ready=
host_setup() {
	[ -z "$host_apt_ready" ] || return 0
	host_apt_ready=1
	# A fresh machine has no package lists at all.
	if ! apt-cache show linux-image-amd64 >/dev/null 2>&1; then
		log "apt-get update (host lists are empty)"
		apt-get -q update >/dev/null || die "apt-get update failed"
	fi
}

# The linux-* packages a meta package pulls in, recursively: images,
# binaries, modules, headers, kbuild. Not the unsigned twins, compilers or
# initramfs tools: we only unpack, never install.
closure() {
	local -n aptv=$1; shift
	local todo=("$@") seen=" " p d
	while [ ${#todo[@]} -gt 0 ]; do
		p=${todo[0]}; todo=("${todo[@]:1}")
		case "$seen" in *" $p "*) continue ;; esac
		seen="$seen$p "
		echo "$p"
		for d in $(apt-cache "${aptv[@]}" depends --no-recommends --no-suggests \
				--no-conflicts --no-breaks --no-replaces --no-enhances "$p" 2>/dev/null |
			awk '$1 ~ /Depends:$/ { print $2 }' | grep -E '^linux-(image|binary|modules|headers|kbuild)-' |
			grep -vE -- '-(unsigned|dbg)$' | sort -u); do
			todo+=("$d")
		done
	done
}

# --- unpacking --------------------------------------------------------------

extract_vmlinux() {
	local img=$1 out=$2 off tmp=$2.tmp.$$
	for magic in 'xz:\xfd7zXZ\x00' 'zstd:\x28\xb5\x2f\xfd' 'gzip:\x1f\x8b\x08'; do
		local kind=${magic%%:*} pat=${magic#*:}
		for off in $(LC_ALL=C grep -aboP "$pat" "$img" | cut -d: -f1); do
			case $kind in
			xz)   tail -c +$((off + 1)) "$img" | xz -dcq --single-stream >"$tmp" 2>/dev/null ;;
			zstd) tail -c +$((off + 1)) "$img" | zstd -dcq >"$tmp" 2>/dev/null ;;
			gzip) tail -c +$((off + 1)) "$img" | gzip -dcq >"$tmp" 2>/dev/null ;;
			esac
			if [ "$(head -c 4 "$tmp" 2>/dev/null | od -An -tx1 | tr -d ' ')" = 7f454c46 ]; then
				mv "$tmp" "$out"
				return 0
			fi
		done
	done
	rm -f "$tmp"
	return 1
}

# Absolute links and paths of the packages point into /usr/src and
# /usr/lib: make them point into ROOT.
relocate() {
	local root=$1 l t f
	find "$root" -type l | while read -r l; do
		t=$(readlink "$l")
		case $t in /*) ln -sfn "$root$t" "$l" ;; esac
	done
	for f in "$root"/usr/src/linux-headers-*/Makefile; do
		[ -f "$f" ] || continue
		sed -i -e "s|^include /usr/src/|include $root/usr/src/|" \
		       -e "s|^KBUILD_OUTPUT=/usr/src/|KBUILD_OUTPUT=$root/usr/src/|" "$f"
	done
	# Merged /usr (trixie): modules live in usr/lib/modules.
	[ -e "$root/lib" ] || ln -s usr/lib "$root/lib"
}

# Host tools of a headers tree built by a newer toolchain than ours do not
# run here (glibc) or need flags our gcc lacks: rebuild them from the
# kernel's own source with our gcc, and tell kbuild what our gcc lacks.
fix_toolchain() {
	local dir=$1 rel=$2 build=$1/build kc cc_want cc_have srcpkg stamp ver
	kc=$build/.config
	: >"$dir/make.args"
	cc_want=$(sed -n 's/^CONFIG_GCC_VERSION=\([0-9]*\)/\1/p' "$kc")
	cc_have=$(gcc -dumpfullversion | awk -F. '{ printf "%d%02d%02d", $1, $2, $3 }')
	if [ -n "$cc_want" ] && [ "$cc_want" -gt "$cc_have" ]; then
		# gcc-NN of .kernelvariables does not exist here; -fmin-function-
		# alignment (gcc 14) does not either, kbuild falls back without it;
		# Debian 12's pahole is too old for the new BTF flags.
		{
			echo "CC=gcc"
			echo "HOSTCC=gcc"
			grep -q '^CONFIG_CC_HAS_MIN_FUNCTION_ALIGNMENT=y' "$kc" &&
				echo "CONFIG_CC_HAS_MIN_FUNCTION_ALIGNMENT="
			# No BTF for our modules, so pahole is never run: silence
			# kbuild's "pahole version differs" warning (W=1 gate).
			grep -q '^CONFIG_DEBUG_INFO_BTF_MODULES=y' "$kc" &&
				echo "CONFIG_DEBUG_INFO_BTF_MODULES=" &&
				sed -n 's/^CONFIG_PAHOLE_VERSION=\([0-9]*\)/PAHOLE_VERSION=\1/p' "$kc"
		} >"$dir/make.args"
	fi
	# Do the prebuilt host tools run on this machine? (Debian's wrappers
	# exec NAME.real-*: look at every ELF file, for the glibc it needs.)
	local have need f
	have=$(ldd --version | sed -n '1s/.* \([0-9][0-9.]*\)$/\1/p')
	need=$(find -L "$build/scripts" "$build/tools" -type f -perm -u+x 2>/dev/null |
		while read -r f; do
			head -c 4 "$f" | grep -q ELF || continue
			objdump -T "$f" 2>/dev/null | grep -o 'GLIBC_2\.[0-9]*' | sed 's/GLIBC_//'
		done | sort -uV | tail -n 1)
	[ -n "$need" ] && [ "$(printf '%s\n%s\n' "$need" "$have" | sort -V | tail -n 1)" != "$have" ] ||
		return 0
	ver=${rel%%-*}; ver=${ver%%+*}; ver=$(echo "$ver" | cut -d. -f1,2)
	srcpkg=linux-source-$ver
	log "$rel: its host tools need glibc $need (here: $have); rebuilding them from $srcpkg"
	local tmp; tmp=$(mktemp -d "$KC/.src.XXXXXX")
	(cd "$tmp" && apt-get "${bpo_apt[@]}" download "$srcpkg" >/dev/null) ||
		{ rm -rf "$tmp"; die "apt-get download $srcpkg failed"; }
	dpkg-deb --fsys-tarfile "$tmp"/"$srcpkg"_*.deb | tar -x -C "$tmp" --wildcards './usr/src/*.tar.*'
	rm -f "$tmp"/*.deb
	tar -xf "$tmp"/usr/src/"$srcpkg".tar.* -C "$tmp"
	rm -f "$tmp"/usr/src/"$srcpkg".tar.*
	local src=$tmp/$srcpkg
	cp "$kc" "$src/.config"
	log "$rel: make olddefconfig modules_prepare with $(gcc -dumpfullversion)"
	# shellcheck disable=SC2046
	make -C "$src" -s -j"$(nproc)" CC=gcc HOSTCC=gcc $(cat "$dir/make.args") \
		olddefconfig modules_prepare >"$dir/tools-build.log" 2>&1 ||
		{ tail -n 30 "$dir/tools-build.log" >&2; rm -rf "$tmp"; die "$rel: building host tools failed"; }
	# Replace every prebuilt ELF host tool that the source tree rebuilt.
	local rp n=0
	while read -r f; do
		rp=${f#"$build"/}
		[ -x "$src/$rp" ] || continue
		head -c 4 "$src/$rp" | grep -q ELF || continue
		cp --remove-destination "$src/$rp" "$(readlink -f "$f")"
		n=$((n + 1))
	done < <(find -L "$build/scripts" "$build/tools" -type f -perm -u+x 2>/dev/null)
	log "$rel: replaced $n host tools"
	rm -rf "$tmp"
}

# fetch ALIAS: download, unpack and prepare one kernel; print its release.
fetch() {
	local alias=$1 metas aptv_name
	case $alias in
	6.1)    host_setup; aptv_name=host_apt
		metas=(linux-image-amd64 linux-headers-amd64) ;;
	6.12)   host_setup; aptv_name=host_apt
		metas=(linux-image-6.12-amd64 linux-headers-6.12-amd64) ;;
	newest|[7-9].*|[1-9][0-9].*)
		bpo_setup; aptv_name=bpo_apt
		metas=(linux-image-amd64 linux-headers-amd64) ;;
	*)      die "unknown kernel '$alias' (6.1, 6.12, newest)" ;;
	esac
	local -n aptv=$aptv_name
	local pkgs want p
	# Asking apt costs seconds per kernel: once a day is enough to follow
	# new uploads (ZCBUF_KERNELS_REFRESH=1 forces it).
	if [ -L "$KC/$alias" ] && [ -z "${ZCBUF_KERNELS_REFRESH:-}" ] &&
	   [ -s "$KC/$alias/vmlinux" ] &&
	   [ -n "$(find "$KC/$alias/packages" -mmin -1440 2>/dev/null)" ]; then
		readlink "$KC/$alias"
		return 0
	fi
	pkgs=$(closure "$aptv_name" "${metas[@]}" | grep -vxF -e "${metas[0]}" -e "${metas[1]}" | sort)
	[ -n "$pkgs" ] || die "$alias: no packages behind ${metas[*]}"
	# The stamp: exact package names and versions.
	want=$(for p in $pkgs; do
		echo "$p $(apt-cache "${aptv[@]}" policy "$p" | awk '/Candidate:/ { print $2 }')"
	done)
	local rel
	rel=$(echo "$pkgs" | sed -n 's/^linux-\(image\|binary\)-\(.*-amd64\)$/\2/p' | head -n 1)
	[ -n "$rel" ] || die "$alias: no image among: $pkgs"
	local dir=$KC/$rel
	if [ -r "$dir/packages" ] && [ "$(cat "$dir/packages")" = "$want" ] &&
	   [ -s "$dir/vmlinux" ]; then
		touch "$dir/packages"
		link_aliases "$alias" "$rel"
		echo "$rel"
		return 0
	fi
	log "$alias: downloading $(echo $pkgs)"
	rm -rf "$dir" "$dir.tmp"
	mkdir -p "$dir.tmp/debs" "$dir.tmp/root"
	# shellcheck disable=SC2086
	(cd "$dir.tmp/debs" && apt-get "${aptv[@]}" download $pkgs >/dev/null) ||
		die "$alias: apt-get download failed"
	for p in "$dir.tmp"/debs/*.deb; do dpkg-deb -x "$p" "$dir.tmp/root"; done
	rm -rf "$dir.tmp/debs"
	mv "$dir.tmp" "$dir"
	relocate "$dir/root"
	local img
	img=$(ls "$dir"/root/boot/vmlinuz-"$rel" "$dir"/root/usr/lib/modules/"$rel"/vmlinuz 2>/dev/null | head -n 1) || true
	[ -n "$img" ] || die "$rel: no vmlinuz in the packages"
	ln -sfn "${img#"$dir"/}" "$dir/vmlinuz"
	ln -sfn "root/usr/src/linux-headers-$rel" "$dir/build"
	[ -r "$dir/build/.config" ] || die "$rel: no headers tree"
	depmod -b "$dir/root" "$rel" || die "$rel: depmod failed"
	fix_toolchain "$dir" "$rel"
	extract_vmlinux "$dir/vmlinuz" "$dir/vmlinux" || die "$rel: no ELF inside its vmlinuz"
	echo "$want" >"$dir/packages"
	link_aliases "$alias" "$rel"
	echo "$rel"
}

link_aliases() {
	local alias=$1 rel=$2 mm
	ln -sfn "$rel" "$KC/$alias"
	if [ "$alias" = newest ]; then
		mm=$(echo "$rel" | sed 's/^\([0-9]*\.[0-9]*\).*/\1/')
		ln -sfn "$rel" "$KC/$mm"
	fi
}

main() {
	local cmd=fetch
	case ${1:-} in fetch|list) cmd=$1; shift ;; esac
	mkdir -p "$KC"
	if [ "$cmd" = list ]; then
		local a
		for a in "$KC"/*; do
			[ -L "$a" ] && printf '%-8s %s\n' "${a##*/}" "$(readlink "$a")"
		done
		return 0
	fi
	[ $# -gt 0 ] || set -- 6.1 6.12 newest
	exec 8>"$KC/.lock"
	flock 8
	local a
	for a in "$@"; do fetch "$a" >/dev/null; done
}

main "$@"
