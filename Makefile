# crosslink — plain GNU make. `make V=1` shows the commands.
#
# Layout: common/ + generated proto code -> build/libcrosslink.a.
# Each role folder (agent, linker, keys, analyst, audit) holds main.c plus modules;
# the modules become build/<role>/lib<role>.a so unit tests can link them, and
# main.c + that archive + libcrosslink.a become bin/crosslink-<role>.
# New .c files are picked up by wildcard: no Makefile edit is needed to add one.

CC       ?= cc
PREFIX   ?= /usr/local
BUILD    ?= build
BIN      ?= bin
PKGS     := libsodium libzmq libprotobuf-c sqlite3 libutf8proc inih libcjson openssl
TESTPKGS := cmocka

ifeq ($(V),1)
Q :=
else
Q := @
endif

# Targets that need no compiler or libraries never run the dependency check.
NODEPS_GOALS := clean format help
ifneq ($(filter-out $(NODEPS_GOALS),$(or $(MAKECMDGOALS),all)),)
# build/config.mk records the pkg-config flags. Make rebuilds it (installing any
# missing Debian package first) and restarts when it is missing or stale.
# ReadStat ships no pkg-config file: its header is looked for with the compiler.
-include $(BUILD)/config.mk
endif

$(BUILD)/config.mk: Makefile deploy/install-deps.sh
	@mkdir -p $(BUILD)
	@if ! pkg-config --exists $(PKGS) $(TESTPKGS) || ! command -v protoc-c >/dev/null || \
	    ! echo '#include <readstat.h>' | $(CC) -x c -E - >/dev/null 2>&1; then \
	    echo "make: a build dependency is missing; running deploy/install-deps.sh"; \
	    sh deploy/install-deps.sh || exit 1; \
	fi
	@{ echo "PKG_CFLAGS := $$(pkg-config --cflags $(PKGS))"; \
	   echo "PKG_LIBS := $$(pkg-config --libs $(PKGS))"; \
	   echo "TEST_CFLAGS := $$(pkg-config --cflags $(TESTPKGS))"; \
	   echo "TEST_LIBS := $$(pkg-config --libs $(TESTPKGS))"; } > $@.tmp && mv $@.tmp $@

WARN     := -Wall -Wextra -Wformat=2 -Wshadow -Wpointer-arith -Wstrict-prototypes \
            -Wmissing-prototypes -Wvla -Wno-unused-parameter
OPT      ?= -O2 -g
CFLAGS   ?=
XL_CFLAGS = -std=c11 -D_GNU_SOURCE $(OPT) $(WARN) $(CFLAGS) -fstack-protector-strong \
            -D_FORTIFY_SOURCE=2 -fPIE -Icommon/include -I$(BUILD)/proto $(PKG_CFLAGS) -MMD -MP
XL_LDFLAGS = -pie -Wl,-z,relro,-z,now $(LDFLAGS)
LIBS      = $(PKG_LIBS) -lreadstat -lm -lpthread

ROLES    := agent linker keys analyst audit

PROTO_SRC := $(wildcard proto/*.proto)
PROTO_C   := $(patsubst proto/%.proto,$(BUILD)/proto/%.pb-c.c,$(PROTO_SRC))
PROTO_H   := $(PROTO_C:.c=.h)
COMMON_SRC := $(wildcard common/*.c)
LIB_OBJ   := $(patsubst %.c,$(BUILD)/%.o,$(COMMON_SRC)) $(PROTO_C:.c=.o)
LIBXL     := $(BUILD)/libcrosslink.a

role_src   = $(filter-out $(1)/main.c,$(wildcard $(1)/*.c))
role_obj   = $(patsubst %.c,$(BUILD)/%.o,$(call role_src,$(1)))
role_lib   = $(BUILD)/$(1)/lib$(1).a
ROLE_MAINS := $(foreach r,$(ROLES),$(if $(wildcard $(r)/main.c),$(r)))
PROGS      := $(foreach r,$(ROLE_MAINS),$(BIN)/crosslink-$(r))
ROLE_LIBS  := $(foreach r,$(ROLES),$(call role_lib,$(r)))

UNIT_SRC   := $(wildcard tests/unit/test_*.c)
UNIT_BINS  := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
TESTLIB_SRC := $(wildcard tests/lib/*.c)
TESTLIB_OBJ := $(patsubst %.c,$(BUILD)/%.o,$(TESTLIB_SRC))
BENCH_SRC  := $(wildcard bench/*.c)
BENCH_BINS := $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRC))
TOOL_SRC   := $(wildcard tests/tools/*.c)
TOOL_BINS  := $(patsubst tests/tools/%.c,$(BUILD)/tests/tools/%,$(TOOL_SRC))

.PHONY: all check unit e2e asan fuzz bench bench-quality demo format install clean help

demo: $(PROGS) $(BENCH_BINS)
	@XL_BIN=$(BIN) XL_BUILD=$(BUILD) sh deploy/demo.sh
.DEFAULT_GOAL := all
# Generated protobuf-c sources are kept, not deleted as intermediates.
.SECONDARY:

all: $(PROGS) $(LIBXL)

help:
	@echo "make            build bin/crosslink-* and $(LIBXL)"
	@echo "make check      unit tests (cmocka) and end-to-end tests"
	@echo "make asan       the same under address+undefined sanitizers"
	@echo "make fuzz       each libFuzzer target for FUZZ_SECONDS (default $(FUZZ_SECONDS))"
	@echo "make bench      benchmarks that print figures"
	@echo "make bench-quality  linkage quality alone (BENCH_SETS='febrl-*' picks sets)"
	@echo "make demo       the whole service end to end, in demo-out/"
	@echo "make format     clang-format every source file"
	@echo "make install    PREFIX=$(PREFIX) DESTDIR="

# --- generated protobuf-c code ---------------------------------------------
$(BUILD)/proto/%.pb-c.c $(BUILD)/proto/%.pb-c.h: proto/%.proto
	@mkdir -p $(BUILD)/proto
	@echo "  PROTOC  $<"
	$(Q)protoc-c --proto_path=proto --c_out=$(BUILD)/proto $<

# Generated code is not ours to warn about: it is built with the default warnings.
$(BUILD)/proto/%.pb-c.o: $(BUILD)/proto/%.pb-c.c
	@echo "  CC      $<"
	$(Q)$(CC) -std=c11 $(OPT) $(CFLAGS) -fPIE -I$(BUILD)/proto $(PKG_CFLAGS) -c $< -o $@

# --- objects --------------------------------------------------------------
$(BUILD)/%.o: %.c | $(PROTO_H)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(XL_CFLAGS) -c $< -o $@

$(BUILD)/tests/%.o: tests/%.c | $(PROTO_H)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(XL_CFLAGS) $(TEST_CFLAGS) -Itests/lib -c $< -o $@

$(LIBXL): $(LIB_OBJ)
	@echo "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^

define ROLE_RULES
$(call role_lib,$(1)): $(call role_obj,$(1))
	@mkdir -p $$(dir $$@)
	@echo "  AR      $$@"
	$(Q)rm -f $$@ && ar rcs $$@ $$^

$(BIN)/crosslink-$(1): $(BUILD)/$(1)/main.o $(call role_lib,$(1)) $(LIBXL)
	@mkdir -p $(BIN)
	@echo "  LINK    $$@"
	$(Q)$(CC) $(XL_LDFLAGS) -o $$@ $$^ $$(LIBS)
endef
$(foreach r,$(ROLES),$(eval $(call ROLE_RULES,$(r))))

# A unit test links every role's modules: the linker drops what it does not use.
$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(TESTLIB_OBJ) $(ROLE_LIBS) $(LIBXL)
	@echo "  LINK    $@"
	$(Q)$(CC) $(XL_LDFLAGS) -o $@ $< $(TESTLIB_OBJ) $(ROLE_LIBS) $(LIBXL) $(LIBS) $(TEST_LIBS)

$(BUILD)/bench/%: $(BUILD)/bench/%.o $(TESTLIB_OBJ) $(ROLE_LIBS) $(LIBXL)
	@echo "  LINK    $@"
	$(Q)$(CC) $(XL_LDFLAGS) -o $@ $< $(TESTLIB_OBJ) $(ROLE_LIBS) $(LIBXL) $(LIBS)

# Tools the end-to-end tests drive (a raw ZeroMQ client and the like).
$(BUILD)/tests/tools/%: $(BUILD)/tests/tools/%.o $(LIBXL)
	@echo "  LINK    $@"
	$(Q)$(CC) $(XL_LDFLAGS) -o $@ $< $(LIBXL) $(LIBS)

$(BUILD)/bench/%.o: bench/%.c | $(PROTO_H)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(XL_CFLAGS) -Itests/lib -c $< -o $@

# --- tests ----------------------------------------------------------------
check: unit e2e

unit: $(UNIT_BINS) $(PROGS)
	@sh tests/run-unit.sh $(UNIT_BINS)

e2e: $(PROGS) $(BENCH_BINS) $(TOOL_BINS)
	@XL_BIN=$(BIN) XL_BUILD=$(BUILD) sh tests/run-e2e.sh

asan:
	$(MAKE) BUILD=build-asan BIN=build-asan/bin \
	    OPT="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
	    LDFLAGS="-fsanitize=address,undefined" check

# Each parser's libFuzzer target, a short run from a copy of its seed corpus
# (libFuzzer writes new inputs into the first corpus directory). Needs clang.
# The shared sources are compiled once, with coverage and sanitizers, into
# $(BUILD)/fuzz/libfuzz.a; each target links against it.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 30
FUZZ_DIR     := $(BUILD)/fuzz
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_CFLAGS   = -std=c11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer $(FUZZ_SAN) \
               -Icommon/include -I$(BUILD)/proto $(PKG_CFLAGS) -MMD -MP
FUZZ_SRC     := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS    := $(patsubst tests/fuzz/%.c,$(FUZZ_DIR)/%,$(FUZZ_SRC))
FUZZ_LIB_SRC := $(COMMON_SRC) $(call role_src,agent) $(call role_src,linker) $(call role_src,analyst) \
                $(call role_src,audit) \
                $(filter-out $(FUZZ_SRC),$(wildcard tests/fuzz/*.c))
FUZZ_LIB_OBJ := $(patsubst %.c,$(FUZZ_DIR)/obj/%.o,$(FUZZ_LIB_SRC)) \
                $(patsubst $(BUILD)/proto/%.c,$(FUZZ_DIR)/obj/proto/%.o,$(PROTO_C))

fuzz: $(FUZZ_BINS)
	@n=0; for bin in $(FUZZ_BINS); do \
	    name=$$(basename $$bin); corpus=tests/fuzz/corpus/$${name#fuzz_}; \
	    echo "  FUZZ    $$name ($(FUZZ_SECONDS) s)"; \
	    rm -rf $$bin.corpus && mkdir -p $$bin.corpus && cp $$corpus/* $$bin.corpus/ 2>/dev/null; \
	    $$bin -max_total_time=$(FUZZ_SECONDS) -artifact_prefix=$$bin- $$bin.corpus \
	        2>$$bin.log || { tail -40 $$bin.log; echo "fuzz: $$n passed, 1 failed"; exit 1; }; \
	    tail -1 $$bin.log; n=$$((n + 1)); \
	done; echo "fuzz: $$n passed, 0 failed"

$(FUZZ_DIR)/.clang:
	@command -v $(FUZZ_CC) >/dev/null || { echo "make fuzz: needs clang (sh deploy/install-deps.sh)"; exit 1; }
	@mkdir -p $(dir $@) && touch $@

$(FUZZ_DIR)/obj/proto/%.o: $(BUILD)/proto/%.c $(FUZZ_DIR)/.clang
	@mkdir -p $(dir $@)
	@echo "  CC      $< (fuzz)"
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_DIR)/obj/%.o: %.c $(FUZZ_DIR)/.clang | $(PROTO_H)
	@mkdir -p $(dir $@)
	@echo "  CC      $< (fuzz)"
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_DIR)/libfuzz.a: $(FUZZ_LIB_OBJ)
	@echo "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^

$(FUZZ_DIR)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_DIR)/libfuzz.a
	@echo "  LINK    $@"
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer $< $(FUZZ_DIR)/libfuzz.a $(PKG_LIBS) \
	    -lreadstat -lm -lpthread -o $@

bench: $(PROGS) $(BENCH_BINS) $(TOOL_BINS)
	@XL_BIN=$(BIN) XL_BUILD=$(BUILD) sh bench/run.sh

# The quality section of bench/run.sh alone, for work on matching: it needs
# only these two programs, and takes seconds.
bench-quality: $(BUILD)/bench/quality $(BUILD)/bench/gen_coalition
	@XL_BIN=$(BIN) XL_BUILD=$(BUILD) BENCH_ONLY=quality sh bench/run.sh

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

install: all
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(PROGS) $(DESTDIR)$(PREFIX)/bin/

clean:
	rm -rf build build-asan bin

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
