# SPDX-License-Identifier: GPL-2.0
#
# zcbuf: module + library + apps + selftests, and the QEMU-based checks.
#
#   make [KVER=6.1|6.12|newest] [KDIR=/path/to/kernel/build]   build everything
#   make check      every kernel (6.1, 6.12, newest), normal and swiotlb=force
#                   boots, all selftests
#   make demo       boot 6.12 with QEMU's edu device, run the capture app on
#                   the simulator and on edu (PNGs in build/demo/)
#   make check-debug  the debug 6.12 kernel (KASAN, lockdep, kmemleak, DMA-API
#                   debug, fault injection; built once), all selftests + fuzz,
#                   kill storm, fault injection, kmemleak; plain and swiotlb=force
#   make sparse     C=2 module build (must be clean)
#   make checkpatch kernel checkpatch.pl --strict on kmod/ and uapi/
#   make clean
#   make modules [KDIR=...]  plain in-place kbuild build (kmod/zcbuf.ko), for DKMS
#   make install    library, headers, pkg-config file, zcbuf-capture, udev
#                   rule, man pages, GStreamer plugin (DESTDIR, PREFIX, BINDIR, LIBDIR,
#                   INCLUDEDIR, MANDIR, UDEVRULESDIR; CPPFLAGS, CFLAGS and
#                   LDFLAGS from the environment; -Werror only with CI=true)
#   make deb        Debian packages zcbuf-dkms, libzcbuf1, libzcbuf-dev,
#                   zcbuf-tools into build/deb, lintian-checked (installs
#                   dpkg-dev, the build dependencies and lintian if missing)
#   make check-host the checks that need no guest: check-version,
#                   check-includes, the library's exports, the manual
#                   pages, zcbuf-capture's command line and exit status,
#                   make install (check-install), the kernel log scan's
#                   self-test (scripts/klog-scan.sh)
#   make check-version  VERSION agrees with the uapi, library and packaging
#   make check-includes kmod/'s files include each other without a cycle
#
# The modules are built out of tree (make -C $(KDIR) M=...) in
# build/<release>/src, a tree of symlinks to Kbuild, kmod/ (the core,
# zcbuf.ko, and one folder per driver: sim/zcbuf_sim.ko, ...) and uapi/, so
# builds for different kernels never overwrite each other's objects.

SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -ec

KVER ?= 6.12
ZCBUF_CACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/zcbuf
export ZCBUF_CACHE

# Kernels are Debian's, unpacked into the cache by scripts/kernels.sh (never
# installed into the host): KVER=6.1|6.12|newest|7.3 picks one; KDIR= builds
# against any other kernel tree (DKMS, a distribution's headers, the debug
# kernel). Evaluated once, on first use (so `make clean` works before setup).
ifeq ($(origin KDIR),undefined)
KREL = $(eval KREL := $(shell scripts/kver.sh $(KVER)))$(KREL)
KDIR = $(ZCBUF_CACHE)/kernels/$(KREL)/build
# What this host's compiler needs for that kernel's headers (a newer gcc made
# them): written by scripts/kernels.sh, empty for bookworm's kernels.
KARGS = $(eval KARGS := $(shell cat $(ZCBUF_CACHE)/kernels/$(KREL)/make.args 2>/dev/null))$(KARGS)
else
# /lib/modules/<release>/build names the release better than its own
# kernel.release does (Debian's headers say 6.1.192 for 6.1.0-56-amd64).
KREL = $(eval KREL := $(or $(patsubst /lib/modules/%/build,%,$(filter /lib/modules/%/build,$(KDIR:/=))),\
	$(shell cat $(KDIR)/include/config/kernel.release 2>/dev/null || \
	$(MAKE) -s -C $(KDIR) kernelrelease)))$(KREL)
KARGS =
endif

BUILD := $(CURDIR)/build
MODSRC = $(BUILD)/$(KREL)/src
MODULE = $(MODSRC)/kmod/zcbuf.ko $(MODSRC)/kmod/sim/zcbuf_sim.ko \
	 $(MODSRC)/kmod/edu/zcbuf_edu.ko \
	 $(MODSRC)/kmod/virtio_net/zcbuf_virtio_net.ko
KBUILD = $(MAKE) -C $(KDIR) M=$(MODSRC) $(KARGS)

.PHONY: all setup modsrc module module-strict modules modules-clean userlib \
	apps selftests gst check demo sparse checkpatch clean

all: module userlib apps selftests gst

setup:
	@scripts/setup.sh

# Symlink only sources, never objects someone built inside kmod/; the
# core's files and each driver folder's (one level down).
modsrc:
	@test -n "$(KREL)" || { echo "no kernel release for KVER=$(KVER) KDIR=$(KDIR)" >&2; exit 1; }
	@test -d $(KDIR) || { echo "$(KDIR): no kernel build tree (make setup, or KDIR=)" >&2; exit 1; }
	@mkdir -p $(MODSRC)/kmod
	@find $(MODSRC)/kmod -type l -delete
	@ln -sfn $(CURDIR)/uapi $(MODSRC)/uapi
	@ln -sf $(CURDIR)/Kbuild $(MODSRC)/Kbuild
	@ln -sf $(CURDIR)/VERSION $(MODSRC)/VERSION
	@for f in kmod/*.[chS] kmod/Kbuild kmod/Makefile \
		  kmod/*/*.[chS] kmod/*/Kbuild kmod/*/Makefile; do \
		[ ! -e "$$f" ] || { mkdir -p $(MODSRC)/$$(dirname $$f) && \
			ln -sf $(CURDIR)/$$f $(MODSRC)/$$f; }; done

module: modsrc
	@$(KBUILD) W=1 modules 2>&1 | tee $(BUILD)/$(KREL)/module.log
	@echo "module: $(MODULE)"

# A from-scratch W=1 build that fails on any compiler or modpost warning.
module-strict: modsrc
	@$(KBUILD) clean >/dev/null
	@$(KBUILD) W=1 modules 2>&1 | tee $(BUILD)/$(KREL)/module.log
	@if grep -qE 'warning:|error:|WARNING:' $(BUILD)/$(KREL)/module.log; then \
		echo "module-strict: $(KREL): the W=1 build printed warnings (above)" >&2; exit 1; fi
	@echo "module: $(MODULE) (W=1, no warnings)"

# The plain kbuild way, in place (kmod/zcbuf.ko): what DKMS and anyone
# building for one kernel expect. Same as make -C $(KDIR) M=$(CURDIR).
modules:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

modules-clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean

sparse: modsrc
	@$(KBUILD) clean >/dev/null
	@$(KBUILD) C=2 W=1 modules 2>&1 | tee $(BUILD)/$(KREL)/sparse.log
	@if grep -qE 'warning:|error:|WARNING:' $(BUILD)/$(KREL)/sparse.log; then \
		echo "sparse: $(KREL): not clean (above)" >&2; exit 1; fi
	@echo "sparse: clean ($(KREL))"

CHECKPATCH = $(ZCBUF_CACHE)/checkpatch/checkpatch.pl
checkpatch:
	@[ -x $(CHECKPATCH) ] || scripts/setup.sh
	@$(CHECKPATCH) --no-tree -f --strict --terse --show-types \
		$(wildcard kmod/*.[ch] kmod/*/*.[ch] uapi/linux/*.h)

# Userland. Each directory owns its Makefile; we only call it. The capture
# app is built twice: linked against libzcbuf.so (build/apps/zcbuf-capture,
# what make install ships) and static (build/apps/static/zcbuf-capture, for
# the guest's busybox initramfs).
# BUILDDIR moves the userland's output (debian/rules uses its own).
BUILDDIR ?= $(CURDIR)/build
USERLIB_O = O=$(BUILDDIR)/userlib
APPS_O = O=$(BUILDDIR)/apps LIBZCBUF_DIR=$(BUILDDIR)/userlib
GST_O = O=$(BUILDDIR)/gst LIBZCBUF_DIR=$(BUILDDIR)/userlib

userlib:
	@if [ -f userlib/Makefile ]; then $(MAKE) -C userlib $(USERLIB_O); fi

apps: userlib
	@if [ -f apps/Makefile ]; then $(MAKE) -C apps all static $(APPS_O); fi

# make install: what a distribution ships of the userland (the module goes
# through DKMS: dkms.conf, or the zcbuf-dkms package).
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR ?= $(PREFIX)/share/man
UDEVRULESDIR ?= $(if $(filter /usr,$(PREFIX)),/usr/lib/udev/rules.d,/etc/udev/rules.d)
INSTALL_VARS = PREFIX=$(PREFIX) BINDIR=$(BINDIR) LIBDIR=$(LIBDIR) INCLUDEDIR=$(INCLUDEDIR)

.PHONY: install install-lib install-apps install-udev install-man install-gst
install: install-lib install-apps install-udev install-man install-gst

# udev reads /usr/lib/udev/rules.d (the distribution's) and /etc/udev/rules.d
# (the administrator's), nothing under /usr/local.
install-lib:
	$(MAKE) -C userlib install $(INSTALL_VARS) $(USERLIB_O)
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ]; then ldconfig; fi

install-apps: install-lib
	$(MAKE) -C apps install $(INSTALL_VARS) $(APPS_O)

# The GStreamer plugin: into $(LIBDIR)/gstreamer-1.0 (GST_PLUGIN_PATH), or
# GStreamer's own plugin directory with PREFIX=/usr; PLUGINDIR= overrides.
# Without GStreamer's development packages make install skips it, and says so.
GST_DEV_PKGS = gstreamer-1.0 gstreamer-base-1.0 gstreamer-video-1.0 gstreamer-allocators-1.0
install-gst:
	@if pkg-config --exists $(GST_DEV_PKGS); then \
		$(MAKE) -C gst install $(INSTALL_VARS) $(GST_O) $(if $(PLUGINDIR),PLUGINDIR=$(PLUGINDIR)); \
	else echo "install: GStreamer development packages missing (libgstreamer1.0-dev" \
		"libgstreamer-plugins-base1.0-dev): zcbufsrc not installed" >&2; fi

install-udev:
	install -d $(DESTDIR)$(UDEVRULESDIR)
	install -m 0644 udev/60-zcbuf.rules $(DESTDIR)$(UDEVRULESDIR)/

install-man:
	@if [ -f man/Makefile ]; then $(MAKE) -C man install MANDIR=$(MANDIR); fi

.PHONY: check-version check-includes check-install check-host deb
check-version:
	@scripts/version.sh check

check-includes:
	@scripts/include-graph.sh --self-test
	@scripts/include-graph.sh kmod

check-install:
	@scripts/install-check.sh

check-host: check-version check-includes userlib apps
	@$(MAKE) --no-print-directory -C userlib check $(USERLIB_O) >/dev/null
	@echo "userlib: exports match libzcbuf.map, soname libzcbuf.so.1"
	@$(MAKE) --no-print-directory -C man check
	@apps/tests/cli.sh $(BUILDDIR)/apps/zcbuf-capture
	@scripts/install-check.sh
	@scripts/klog-scan.sh --self-test

deb:
	@scripts/deb.sh

# The GStreamer plugin (zcbufsrc) and its guest-side test helpers.
gst: userlib
	@$(MAKE) -C gst $(GST_O)

selftests: userlib
	@[ -r $(ZCBUF_CACHE)/kselftest/kselftest_harness.h ] || scripts/setup.sh
	@$(MAKE) -C selftests

check:
	@scripts/check.sh

demo:
	@scripts/demo.sh

.PHONY: check-debug
check-debug:
	@scripts/check-debug.sh

# make bench exists once bench/run.sh does (it boots its own guests).
ifneq ($(wildcard bench/run.sh),)
.PHONY: bench
bench:
	@bench/run.sh
endif

clean:
	rm -rf build
	@if [ -f userlib/Makefile ]; then $(MAKE) -C userlib clean; fi
	@if [ -f apps/Makefile ]; then $(MAKE) -C apps clean; fi
	@if [ -f selftests/Makefile ]; then $(MAKE) -C selftests clean; fi
	@$(MAKE) -C gst clean
