# SPDX-License-Identifier: GPL-2.0-only
#
# What every selftests/<mod>/Makefile shares: compiler flags, where the
# programs go, and the kernel's own lib.mk (all, run_tests, install, clean,
# emit_tests), taken from the linux-source copy that 'make ktools' unpacks
# into build/ktools, as the harness headers are.
#
# A target's Makefile sets TEST_GEN_PROGS (and its own rules), then
# includes this file.
#
# OUTPUT defaults to build/selftests/<mod> in the repository, where
# tools/run-tests and the fault-injection pass expect the programs; the
# kernel's selftests/Makefile passes its own, so does ours.
#
# RUN_PROGS="name ...": run_tests runs only these programs of the target
# (tools/run-tests uses it for a tier's selection); unset, all of them.

VMACCEL_TOP := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))/../..)
KTOOLS ?= $(VMACCEL_TOP)/build/ktools
KSFT_DIR := $(KTOOLS)/tools/testing/selftests
COLLECTION ?= $(notdir $(CURDIR))
OUTPUT ?= $(VMACCEL_TOP)/build/selftests/$(COLLECTION)
override OUTPUT := $(abspath $(OUTPUT))

ifeq ($(wildcard $(KSFT_DIR)/lib.mk),)
$(error $(KSFT_DIR)/lib.mk is missing: run 'make ktools' in $(VMACCEL_TOP))
endif

# Static, so that the fault-injection pass can run the programs from a
# tmpfs without touching the test VM's shared root (tools/run-tests).
CFLAGS += -O2 -g -Wall -Wextra -Werror -pthread -I$(KSFT_DIR) \
	-I$(VMACCEL_TOP)/include/uapi
LDFLAGS += -static
LDLIBS += -lm
LOCAL_HDRS += $(wildcard *.h) $(wildcard $(VMACCEL_TOP)/selftests/lib/*.h) \
	$(wildcard $(VMACCEL_TOP)/include/uapi/linux/*.h)

include $(KSFT_DIR)/lib.mk

$(TEST_GEN_PROGS): | $(OUTPUT)
$(OUTPUT):
	mkdir -p $@

# lib.mk's run_tests finds the "settings" of a target as
# $BASE_DIR/<dir>/settings, <dir> being the current directory relative to
# BASE_DIR: that holds only inside the kernel's tree.  Here the runner
# runs in OUTPUT/.kselftest, the layout of an installed tree: runner.sh
# and prefix.pl in kselftest/, and <target> a link to OUTPUT, which holds
# the programs and a copy of the settings.  "all" puts them there, so
# that a run of up-to-date programs writes nothing (test VMs may share one
# build directory); each file is replaced whole (copy, then rename).
KSFT_RUN_BASE = $(OUTPUT)/.kselftest
KSFT_RUN_FILES = $(OUTPUT)/settings $(KSFT_RUN_BASE)/kselftest/runner.sh \
	$(KSFT_RUN_BASE)/kselftest/prefix.pl $(KSFT_RUN_BASE)/$(COLLECTION)
EXTRA_CLEAN += $(OUTPUT)/settings $(KSFT_RUN_BASE)

all: $(KSFT_RUN_FILES)
$(OUTPUT)/settings: settings | $(OUTPUT)
	cp $< $@.tmp && mv $@.tmp $@
$(KSFT_RUN_BASE)/kselftest/%: $(KSFT_DIR)/kselftest/% | $(OUTPUT)
	@mkdir -p $(dir $@)
	cp $< $@.tmp && mv $@.tmp $@
$(KSFT_RUN_BASE)/$(COLLECTION): | $(OUTPUT)
	@mkdir -p $(dir $@)
	ln -sfn .. $@

# The programs reload the modules from $VMACCEL_KO_DIR/<mod>/: this
# repository unless set (an installed tree must set it).
export VMACCEL_KO_DIR ?= $(VMACCEL_TOP)

define RUN_TESTS
	cd "$(KSFT_RUN_BASE)/$(COLLECTION)" &&				\
	BASE_DIR="$(KSFT_RUN_BASE)" &&					\
	. "$(KSFT_RUN_BASE)/kselftest/runner.sh" &&			\
	if [ "X$(summary)" != "X" ]; then per_test_logging=1; fi;	\
	run_many $(if $(RUN_PROGS),$(filter $(addprefix %/,$(RUN_PROGS)),$(1)),$(1))
endef
