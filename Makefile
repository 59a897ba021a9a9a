# SPDX-License-Identifier: GPL-2.0
#
# zcbuf: module + library + apps + selftests, and the QEMU-based checks.
#
#   make [KVER=6.1|6.12] [KDIR=/path/to/kernel/build]   build everything
#   make check      both kernels, normal and swiotlb=force boots, all selftests
#   make demo       boot 6.12, load the module, run the capture app
#   make check-debug  the debug 6.12 kernel (KASAN, lockdep, kmemleak, DMA-API
#                   debug, fault injection; built once), all selftests + fuzz,
#                   kill storm, fault injection, kmemleak; plain and swiotlb=force
#   make sparse     C=2 module build (must be clean)
#   make checkpatch kernel checkpatch.pl --strict on kmod/ and uapi/
#   make clean
#   make modules [KDIR=...]  plain in-place kbuild build (kmod/zcbuf.ko), for DKMS
#
# The module is built out of tree (make -C $(KDIR) M=...) in
# build/<release>/src, a tree of symlinks to Kbuild, kmod/ and uapi/, so
# builds for different kernels never overwrite each other's objects.

SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -ec

KVER ?= 6.12
ZCBUF_CACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/zcbuf
export ZCBUF_CACHE

# Evaluated once, on first use (so `make clean` works before setup ran).
ifeq ($(origin KDIR),undefined)
KREL = $(eval KREL := $(shell scripts/kver.sh $(KVER)))$(KREL)
KDIR = /lib/modules/$(KREL)/build
else
# /lib/modules/<release>/build names the release better than its own
# kernel.release does (Debian's headers say 6.1.192 for 6.1.0-56-amd64).
KREL = $(eval KREL := $(or $(patsubst /lib/modules/%/build,%,$(filter /lib/modules/%/build,$(KDIR:/=))),\
	$(shell cat $(KDIR)/include/config/kernel.release 2>/dev/null || \
	$(MAKE) -s -C $(KDIR) kernelrelease)))$(KREL)
endif

BUILD := $(CURDIR)/build
MODSRC = $(BUILD)/$(KREL)/src
MODULE = $(MODSRC)/kmod/zcbuf.ko
KBUILD = $(MAKE) -C $(KDIR) M=$(MODSRC)

.PHONY: all setup modsrc module module-strict modules modules-clean userlib \
	apps selftests check demo sparse checkpatch clean

all: module userlib apps selftests

setup:
	@scripts/setup.sh

# Symlink only sources, never objects someone built inside kmod/.
modsrc:
	@test -n "$(KREL)" || { echo "no kernel release for KVER=$(KVER) KDIR=$(KDIR)" >&2; exit 1; }
	@test -d $(KDIR) || { echo "$(KDIR): no kernel build tree (make setup, or KDIR=)" >&2; exit 1; }
	@mkdir -p $(MODSRC)/kmod
	@find $(MODSRC)/kmod -maxdepth 1 -type l -delete
	@ln -sfn $(CURDIR)/uapi $(MODSRC)/uapi
	@ln -sf $(CURDIR)/Kbuild $(MODSRC)/Kbuild
	@for f in kmod/*.[chS] kmod/Kbuild kmod/Makefile; do \
		[ ! -e "$$f" ] || ln -sf $(CURDIR)/$$f $(MODSRC)/kmod/; done

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
		$(wildcard kmod/*.[ch] uapi/linux/*.h)

# Userland (static: it runs in the initramfs too). Each directory owns its
# Makefile; we only call it.
userlib:
	@if [ -f userlib/Makefile ]; then $(MAKE) -C userlib; fi

apps: userlib
	@if [ -f apps/Makefile ]; then $(MAKE) -C apps; fi

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
