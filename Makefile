# SPDX-License-Identifier: GPL-2.0-only
#
# vmaccel top-level Makefile.
#
#   make              build every module against KDIR
#   make check        deps, build, static gates, selftests in a test VM
#   make demo         deps, build, show each module at work in a test VM
#   make deps         install build and test dependencies (Debian)
#   sudo make install install the modules (to /lib/modules/<release>/updates),
#                     uapi headers, udev rules, tools (vmaccel-stat,
#                     vmaccel-balloond), man pages and the boot side (dist/);
#                     DESTDIR honoured, files in /etc never overwritten
#   sudo make uninstall  remove what make install put
#   make deb          Debian packages vmaccel-dkms and vmaccel-tools in build/
#   make pkg-check    make deb, lintian, install/use/purge them in a test VM
#
# KDIR defaults to the running kernel's build dir when it exists, else the
# newest /lib/modules/*/build installed, -rt flavours aside (tools/find-kdir
# says so on stderr).
# Found once and exported, so that sub-makes and tools/ use the same one.

ifeq ($(origin KDIR),undefined)
KDIR := $(shell $(CURDIR)/tools/find-kdir)
endif
export KDIR
BUILD := $(CURDIR)/build
KSRC_TAR ?= $(firstword $(wildcard /usr/src/linux-source-6.1.tar.xz) \
		$(wildcard /usr/src/linux-source-*.tar.xz))
KTOOLS := $(BUILD)/ktools
# The harness headers, lib.mk and the kselftest runner; lib.mk is the
# stamp (the last file asked for when the copy grew).
HARNESS := $(KTOOLS)/tools/testing/selftests/lib.mk
CHECKPATCH := $(KTOOLS)/scripts/checkpatch.pl
KERNELDOC := $(KTOOLS)/scripts/kernel-doc

# Module directories present, in load order (vhost needs vic).
MODDIRS := $(foreach d,vic vhost ksm balloon pvlock,$(if $(wildcard $(d)/Kbuild),$(d)))

USER_CFLAGS := -O2 -g -Wall -Wextra -Werror -pthread \
	-I$(KTOOLS)/tools/testing/selftests -I$(CURDIR)/include/uapi
BENCH_SRCS := $(wildcard bench/*/*.c)
BENCHES := $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRCS))
# Our C sources, for the style gates.
C_SOURCES = $(filter-out %.mod.c,$(wildcard $(addsuffix /*.[ch],$(MODDIRS)) \
	include/uapi/linux/vmaccel_*.h include/vmaccel/*.h selftests/*/*.[ch] bench/*/*.[ch]))
KDOC_SOURCES = $(filter-out %.mod.c,$(wildcard $(addsuffix /*.c,$(MODDIRS)) \
	include/vmaccel/*.h include/uapi/linux/vmaccel_*.h))
# The first commit before the commit rules (tools/commit-check): every
# later one is checked.
COMMIT_STYLE_BASE := 3df5f95
# The compat layer, force-included by Kbuild: the only place where kernel
# versions are tested.
COMPAT_SOURCES = $(wildcard compat/*.h)

# make install puts the tools and man pages under PREFIX.
PREFIX ?= /usr/local
VM_CPUS ?= 2
VM_MEM ?= 2048
# One test VM's limit: the 6.1 tier takes about 1300 s on a quiet 2-core
# machine, 2473-3075 s when the other lane's VM shares it (the clean run
# and CI on 2026-12-07; CI's was cut at the old 3000 s).  The debug tier
# has its own (DEBUG_VM_TIMEOUT, tools/check).
VM_TIMEOUT ?= 3600
HOST_CPUS := $(shell nproc)
DEMO_OVERCOMMIT_CPUS ?= $(shell echo $$(( 2 * $(HOST_CPUS) )))

.PHONY: all modules clean deps check demo install deb pkg-check gates selftests bench ktools FORCE

all modules:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean
	rm -rf $(BUILD)/selftests $(BUILD)/kselftest $(BUILD)/bench $(BUILD)/gates

deps:
	@tools/deps

# Harness headers and style scripts come from the linux-source package, at
# build time; they are never committed.
ktools: $(HARNESS)
$(HARNESS):
	@test -n "$(KSRC_TAR)" || { echo "no /usr/src/linux-source-*.tar.xz: make deps" >&2; exit 1; }
	rm -rf $(KTOOLS) && mkdir -p $(KTOOLS)
	tar -xJf $(KSRC_TAR) -C $(KTOOLS) --strip-components=1 --wildcards \
		'*/tools/testing/selftests/kselftest.h' \
		'*/tools/testing/selftests/kselftest_harness.h' \
		'*/tools/testing/selftests/lib.mk' \
		'*/tools/testing/selftests/run_kselftest.sh' \
		'*/tools/testing/selftests/kselftest/*' \
		'*/scripts/checkpatch.pl' '*/scripts/spelling.txt' \
		'*/scripts/const_structs.checkpatch' '*/scripts/kernel-doc'
	touch $@

# The kselftest targets (see selftests/, on the kernel's lib.mk), built
# into build/selftests/<mod>.
selftests: $(HARNESS) $(BUILD)/sbin/vmaccel-stat
	$(MAKE) -C selftests BUILD=$(BUILD)/selftests all

# vmaccel-stat as installed: its version filled in (tools/version), so that
# it does not run git every time (slow on the test VM's 9p root).  Always
# made again: the version changes with every commit.  Its test runs this.
$(BUILD)/sbin/vmaccel-stat: tools/vmaccel-stat FORCE
	@mkdir -p $(dir $@)
	@sed 's/@VERSION@/$(shell tools/version)/' $< >$@.tmp && chmod 0755 $@.tmp && mv $@.tmp $@
FORCE:

bench: $(BENCHES)
$(BUILD)/bench/%: bench/%.c $(wildcard bench/*/*.h selftests/*/*.h) $(wildcard include/uapi/linux/*.h) | $(HARNESS)
	@mkdir -p $(dir $@)
	$(CC) $(USER_CFLAGS) -o $@ $< -lm
# The client of bench/vic/vic_e2e.sh also runs in a busybox guest: static.
$(BUILD)/bench/vic/vic_e2e_net: bench/vic/vic_e2e_net.c | $(HARNESS)
	@mkdir -p $(dir $@)
	$(CC) $(USER_CFLAGS) -static -o $@ $<

# Static gates: a from-scratch build with W=1 and sparse (C=2) that must print
# no warning, against KDIR (in the tree) and against the newest installed
# kernel of each supported series (KSERIES, from copies in build/gates/),
# checkpatch --strict and kernel-doc on every source.  The modules that
# support PREEMPT_RT (KRT_MODDIRS) also against the newest installed -rt
# kernel of each series in KRT_SERIES (Debian's 6.1-rt).
KSERIES := 6.1 6.12
KRT_SERIES := 6.1
KRT_MODDIRS := $(filter vic,$(MODDIRS))
gate_warnings = grep -E 'warning|error|: note:' $(1) | grep -v 'Skipping BTF generation'
gates: $(HARNESS)
	@mkdir -p $(BUILD)/gates
	@$(MAKE) -s -C $(KDIR) M=$(CURDIR) clean
	@echo "gates: W=1 C=2 build ($$(tools/kernel-release $(KDIR)))"
	@$(MAKE) -C $(KDIR) M=$(CURDIR) W=1 C=2 modules >$(BUILD)/gates/build.log 2>&1 || \
		{ cat $(BUILD)/gates/build.log; exit 1; }
	@if $(call gate_warnings,$(BUILD)/gates/build.log); then \
		echo "gates: W=1/sparse reported the above (full log: $(BUILD)/gates/build.log)"; exit 1; fi
	@for s in $(KSERIES); do \
		kd=$$(tools/find-kdir $$s) || exit 1; \
		[ "$$(readlink -f $$kd)" = "$$(readlink -f $(KDIR))" ] && continue; \
		echo "gates: W=1 C=2 build ($$(tools/kernel-release $$kd))"; \
		log=$(BUILD)/gates/build-$$s.log; \
		tools/build-copy -w $$kd $(BUILD)/gates/$$s $(MODDIRS) >$$log 2>&1 || \
			{ cat $$log; exit 1; }; \
		if $(call gate_warnings,$$log); then \
			echo "gates: W=1/sparse reported the above (full log: $$log)"; exit 1; fi; \
	done
	@for s in $(if $(KRT_MODDIRS),$(KRT_SERIES)); do \
		kd=$$(tools/find-kdir $$s-rt) || exit 1; \
		echo "gates: W=1 C=2 build of $(KRT_MODDIRS) ($$(tools/kernel-release $$kd))"; \
		log=$(BUILD)/gates/build-$$s-rt.log; \
		tools/build-copy -w $$kd $(BUILD)/gates/$$s-rt $(KRT_MODDIRS) >$$log 2>&1 || \
			{ cat $$log; exit 1; }; \
		if $(call gate_warnings,$$log); then \
			echo "gates: W=1/sparse reported the above (full log: $$log)"; exit 1; fi; \
	done
	@echo "gates: checkpatch --strict"
	@# CAMELCASE: the kernel's own names (__SetPageMovable()), which
	@# checkpatch learns from include/ in a kernel tree, not with --no-tree.
	@perl $(CHECKPATCH) --strict --no-tree --quiet --show-types \
		--ignore CAMELCASE -f $(C_SOURCES) || \
		{ echo "gates: checkpatch failed"; exit 1; }
	@perl $(CHECKPATCH) --strict --no-tree --quiet --show-types \
		--ignore LINUX_VERSION_CODE,CONSTANT_COMPARISON -f $(COMPAT_SOURCES) || \
		{ echo "gates: checkpatch failed (compat/)"; exit 1; }
	@if grep -nE '\b(LINUX_VERSION_CODE|KERNEL_VERSION)\b' $(C_SOURCES); then \
		echo "gates: kernel version tests belong in compat/compat.h"; exit 1; fi
	@echo "gates: kernel-doc"
	@perl $(KERNELDOC) -none -v $(KDOC_SOURCES) >$(BUILD)/gates/kdoc.log 2>&1; \
		if grep -vE ': info: ' $(BUILD)/gates/kdoc.log; then \
			echo "gates: kernel-doc reported the above"; exit 1; fi
	@echo "gates: one copy of each udev rule (debian/vmaccel-tools.*.udev -> dist/udev/)"
	@n=0; for r in dist/udev/*.rules; do n=$$((n + 1)); \
		l=debian/vmaccel-tools.$$(basename $$r .rules | sed 's/^[0-9]*-//').udev; \
		[ "$$(readlink $$l)" = "../$$r" ] || { echo "gates: $$l must be a symlink to ../$$r"; exit 1; }; \
		done; [ "$$(ls debian/*.udev | wc -l)" = $$n ] || { echo "gates: a debian/*.udev without its dist/udev rule"; exit 1; }
	@echo "gates: vmaccel-knobs on a fake sysfs (tools/knobs-test)"
	@tools/knobs-test >$(BUILD)/gates/knobs-test.log 2>&1 || \
		{ cat $(BUILD)/gates/knobs-test.log; echo "gates: knobs-test failed"; exit 1; }
	@echo "gates: the package and boot tiers' verdicts on stub VMs (tools/check-test)"
	@tools/check-test >$(BUILD)/gates/check-test.log 2>&1 || \
		{ cat $(BUILD)/gates/check-test.log; echo "gates: check-test failed"; exit 1; }
	@echo "gates: make check's reader of the kselftest runner on a stub target (tools/kselftest-run-test)"
	@tools/kselftest-run-test >$(BUILD)/gates/kselftest-run-test.log 2>&1 || \
		{ cat $(BUILD)/gates/kselftest-run-test.log; echo "gates: kselftest-run-test failed"; exit 1; }
	@echo "gates: commits after $(COMMIT_STYLE_BASE) (tools/commit-check: checkpatch --git, subjects)"
	@tools/commit-check $(COMMIT_STYLE_BASE) || \
		{ echo "gates: commit-check failed"; exit 1; }
	@echo "gates: clean"

check: deps
	@$(MAKE) --no-print-directory gates
	@$(MAKE) --no-print-directory selftests bench
	@VM_CPUS=$(VM_CPUS) VM_MEM=$(VM_MEM) VM_TIMEOUT=$(VM_TIMEOUT) tools/check $(MODDIRS)

demo: deps
	@$(MAKE) --no-print-directory modules bench
	@tools/vm-run -q -c $(VM_CPUS) -m $(VM_MEM) -t $(VM_TIMEOUT) -l $(BUILD)/demo-console.log \
		-- tools/demo $(MODDIRS) || { echo "demo failed; console log: $(BUILD)/demo-console.log"; exit 1; }
	@sed -n '/^=== vmaccel demo/,/^=== end of demo/{/^\[ *[0-9.]*\] /d;p}' $(BUILD)/demo-console.log
ifneq ($(filter pvlock,$(MODDIRS)),)
# pvlock's overcommit row: a second VM with twice as many vCPUs as host CPUs.
	@tools/vm-run -q -c $(DEMO_OVERCOMMIT_CPUS) -m $(VM_MEM) -t $(VM_TIMEOUT) \
		-l $(BUILD)/demo-overcommit-console.log -- tools/demo pvlock || \
		{ echo "demo failed; console log: $(BUILD)/demo-overcommit-console.log"; exit 1; }
	@sed -n '/^=== vmaccel demo/,/^=== end of demo/{/^\[ *[0-9.]*\] /d;p}' $(BUILD)/demo-overcommit-console.log
# pvlock under real KVM paravirt: KVM guests at 1x and 2x of the test VM's
# vCPUs, started inside it (tools/nested-kvm), against pv-qspinlock.
	@tools/vm-run -q -c $(VM_CPUS) -m $(VM_MEM) -t $(VM_TIMEOUT) \
		-l $(BUILD)/demo-kvm-console.log -- sh bench/pvlock/kvm-demo.sh || \
		{ echo "demo failed; console log: $(BUILD)/demo-kvm-console.log"; exit 1; }
	@sed -n '/^=== vmaccel demo/,/^=== end of demo/{/^\[ *[0-9.]*\] /d;p}' $(BUILD)/demo-kvm-console.log
endif

# make install: every file under DESTDIR (empty: this host).  The modules go
# to /lib/modules/<release>/updates/<dir>/ (INSTALL_MOD_PATH=DESTDIR;
# Kbuild's own depmod is turned off, and its signing, for which Debian's
# headers have no key), then depmod -a for that release when
# DESTDIR is empty (with a DESTDIR, whoever installs the tree runs it).  The
# tools, man pages, units and the vmaccel-knobs helper under PREFIX (the
# paths inside the units and the udev rule follow PREFIX), the uapi headers
# in /usr/include/linux.  The files in /etc (the two udev rules, the
# commented config files of dist/) are the admin's: tools/install-conf
# installs one only when it is missing, leaves it when it is the same, and
# puts the new one beside an edited one as <file>.dist (which neither udev,
# modules-load.d nor vmaccel-knobs reads).  make uninstall removes exactly
# these files (an /etc file only when it is still as installed, else it says
# so and keeps it), the directories of our own that are then empty, and runs
# depmod again.  make install-check (tools/install-test) checks both in a
# DESTDIR on this host, no root needed; not in make gates: its two
# modules_install take 10-20 s.
# The boot side is dist/ (dist/README lists each file and where it goes);
# after installing it: systemctl daemon-reload (Documentation/admin-boot.rst).
SYSTEMD_UNIT_DIR ?= $(PREFIX)/lib/systemd/system
DIST_PATHS := s|/usr/sbin/|$(PREFIX)/sbin/|g; s|/usr/lib/vmaccel/|$(PREFIX)/lib/vmaccel/|g; s|/usr/share/doc/vmaccel/|$(PREFIX)/share/doc/vmaccel/|g
DIST_UNITS := run-vmaccel.mount vmaccel-balloond.service vmaccel-knobs.service
# /etc files: the dist/ source (the udev rules as made for PREFIX, in
# build/dist/) and the path under /etc.
DIST_ETC := modules-load.d/vmaccel.conf vmaccel/vmaccel.conf default/vmaccel-balloond
DIST_GEN := $(BUILD)/dist-$(subst /,_,$(PREFIX))
KRELEASE = $(shell tools/kernel-release $(KDIR))
MOD_DIR = $(DESTDIR)/lib/modules/$(KRELEASE)/updates
MANS := vmaccel-stat.8 vmaccel-balloond.8
.PHONY: install-dist uninstall install-check boot-check dist-gen
install-check:
	@tools/install-test
dist-gen:
	@mkdir -p $(DIST_GEN)
	@for f in $(DIST_UNITS); do sed '$(DIST_PATHS)' dist/systemd/$$f >$(DIST_GEN)/$$f || exit 1; done
	@sed '$(DIST_PATHS)' dist/udev/80-vmaccel-knobs.rules >$(DIST_GEN)/80-vmaccel-knobs.rules
install: $(BUILD)/sbin/vmaccel-stat install-dist
	$(MAKE) -C $(KDIR) M=$(CURDIR) INSTALL_MOD_PATH=$(DESTDIR) INSTALL_MOD_DIR=updates \
		DEPMOD=true CONFIG_MODULE_SIG_ALL= modules_install
	$(if $(DESTDIR),@echo "install: DESTDIR set: depmod -a $(KRELEASE) left to whoever installs it",depmod -a $(KRELEASE))
	install -d $(DESTDIR)/usr/include/linux
	install -m 0644 include/uapi/linux/vmaccel_*.h $(DESTDIR)/usr/include/linux/
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/share/man/man8
	install -m 0755 $(BUILD)/sbin/vmaccel-stat $(DESTDIR)$(PREFIX)/sbin/vmaccel-stat
	install -m 0755 tools/vmaccel-balloond $(DESTDIR)$(PREFIX)/sbin/vmaccel-balloond
	install -m 0644 $(addprefix Documentation/man/,$(MANS)) $(DESTDIR)$(PREFIX)/share/man/man8/

install-dist: dist-gen
	install -d $(DESTDIR)$(SYSTEMD_UNIT_DIR) $(DESTDIR)$(PREFIX)/lib/vmaccel \
		$(DESTDIR)$(PREFIX)/share/doc/vmaccel
	install -m 0644 $(addprefix $(DIST_GEN)/,$(DIST_UNITS)) $(DESTDIR)$(SYSTEMD_UNIT_DIR)/
	install -m 0755 dist/vmaccel-knobs $(DESTDIR)$(PREFIX)/lib/vmaccel/vmaccel-knobs
	install -m 0644 Documentation/admin-boot.rst $(DESTDIR)$(PREFIX)/share/doc/vmaccel/
	@tools/install-conf dist/udev/60-vmaccel.rules $(DESTDIR)/etc/udev/rules.d/60-vmaccel.rules
	@tools/install-conf $(DIST_GEN)/80-vmaccel-knobs.rules $(DESTDIR)/etc/udev/rules.d/80-vmaccel-knobs.rules
	@for f in $(DIST_ETC); do tools/install-conf dist/$$f $(DESTDIR)/etc/$$f || exit 1; done

uninstall: dist-gen
	rm -f $(addprefix $(MOD_DIR)/,$(foreach d,$(MODDIRS),$(d)/vmaccel_*.ko $(d)/vmaccel_*.ko.*))
	-rmdir $(addprefix $(MOD_DIR)/,$(MODDIRS)) 2>/dev/null
	$(if $(DESTDIR),@echo "uninstall: DESTDIR set: depmod -a $(KRELEASE) left to whoever installs it",depmod -a $(KRELEASE))
	rm -f $(patsubst include/uapi/%,$(DESTDIR)/usr/include/%,$(wildcard include/uapi/linux/vmaccel_*.h))
	rm -f $(DESTDIR)$(PREFIX)/sbin/vmaccel-stat $(DESTDIR)$(PREFIX)/sbin/vmaccel-balloond
	rm -f $(addprefix $(DESTDIR)$(PREFIX)/share/man/man8/,$(MANS))
	rm -f $(addprefix $(DESTDIR)$(SYSTEMD_UNIT_DIR)/,$(DIST_UNITS))
	rm -f $(DESTDIR)$(PREFIX)/lib/vmaccel/vmaccel-knobs $(DESTDIR)$(PREFIX)/share/doc/vmaccel/admin-boot.rst
	-rmdir $(DESTDIR)$(PREFIX)/lib/vmaccel $(DESTDIR)$(PREFIX)/share/doc/vmaccel 2>/dev/null
	@tools/install-conf -u dist/udev/60-vmaccel.rules $(DESTDIR)/etc/udev/rules.d/60-vmaccel.rules
	@tools/install-conf -u $(DIST_GEN)/80-vmaccel-knobs.rules $(DESTDIR)/etc/udev/rules.d/80-vmaccel-knobs.rules
	@for f in $(DIST_ETC); do tools/install-conf -u dist/$$f $(DESTDIR)/etc/$$f || exit 1; done
	-@rmdir $(DESTDIR)/etc/vmaccel 2>/dev/null
	@if [ -d $(DESTDIR)/etc/systemd/system ] && \
	    find $(DESTDIR)/etc/systemd/system -lname '*vmaccel*' | grep .; then \
		echo "uninstall: the links above enable units just removed: systemctl disable them"; fi

# The boot proof: make deb, then the test VM boots with systemd as init
# with both packages installed by dpkg -i in its overlay root (the modules
# built on the host from vmaccel-dkms's sources: DKMS under TCG is
# pkg-check's), and tools/boot-check verify checks modules, mount, knobs,
# balloond, the packaged files against dist/, and that a host's fstab,
# crypttab and enabled units are not waited for.  KDIR chooses the kernel;
# make check's boot tier runs it on the newest 6.12 (tools/check).
boot-check:
	@tools/boot-check

# The Debian packages (debian/, built in a copy under build/deb/ by
# tools/mkdeb; the .debs land in build/).  pkg-check: lintian, then
# tools/pkg-test in a test VM (install, DKMS builds for every installed
# kernel with headers, modprobe, udev rule, purge): about 5 minutes per
# kernel under TCG (tools/pkg-test's TIME lines).  make check's package
# tier runs it as root in a chroot on the host (tools/pkg-root), where DKMS
# builds at native speed, and leaves loading to the boot tier (tools/check).
PKG_VM_TIMEOUT ?= 3600
PKG_TEST_KERNELS ?=
deb:
	@tools/mkdeb
pkg-check: deb
	lintian --fail-on error,warning $(BUILD)/deb/vmaccel_*.changes
	@tools/vm-run -c $(VM_CPUS) -m $(VM_MEM) -t $(PKG_VM_TIMEOUT) -l $(BUILD)/pkg-console.log \
		-- env PKG_TEST_KERNELS='$(PKG_TEST_KERNELS)' tools/pkg-test || { echo "pkg-check failed; console log: $(BUILD)/pkg-console.log"; exit 1; }
