# octo build: libocto.a, libocto.so, the octo CLI and the test programs.
#
#   make            build everything into build/
#   make test       build and run the test suite (tests/run.sh)
#   make test-sanitize / test-scalar   the suite under ASan+UBSan / without SIMD
#   make demo       build, then run the default android agent on a request
#   make bench      speed benchmarks (bench/run.sh)
#   make ISA=scalar build without any SIMD kernels (portable C only)
#
# Kernels for each instruction set live in files named *_avx2.c, *_avx512.c
# and *_neon.c; each is compiled with the flags of its ISA and chosen at run
# time by src/tensor/dispatch.c, so one binary runs on any x86-64 CPU.

CC      ?= cc
OPT     ?= -O3
CFLAGS  ?= $(OPT) -g
CFLAGS  += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wno-unused-parameter \
           -fPIC -pthread -Iinclude -Isrc -fno-math-errno
LDLIBS  += -lcjson -lcurl -lm -pthread
BUILD   ?= build
ISA     ?= auto

ARCH := $(shell uname -m)
AVX2_FLAGS   := -mavx2 -mfma -mf16c
AVX512_FLAGS := -mavx512f -mavx512bw -mavx512vl -mavx512dq -mavx512vnni -mavx512bf16 -mfma -mf16c

LIB_SRC  := $(sort $(shell find src -name '*.c'))
CLI_SRC  := $(sort $(wildcard cli/*.c))
TEST_SRC := $(sort $(wildcard tests/test_*.c))
TEST_HELPER_SRC := tests/testlib.c

# SANITIZE=1: AddressSanitizer + UndefinedBehaviorSanitizer (make test-sanitize)
ifeq ($(SANITIZE),1)
  CFLAGS += -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
  LDLIBS += -fsanitize=address,undefined
endif

ifeq ($(ISA),scalar)
  CFLAGS += -DOCTO_NO_SIMD
  LIB_SRC := $(filter-out %_avx2.c %_avx512.c %_neon.c,$(LIB_SRC))
endif
ifneq ($(ARCH),x86_64)
  LIB_SRC := $(filter-out %_avx2.c %_avx512.c,$(LIB_SRC))
endif
ifneq ($(ARCH),aarch64)
  LIB_SRC := $(filter-out %_neon.c,$(LIB_SRC))
endif

LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/%.o)
TEST_BIN := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)

all: $(BUILD)/libocto.a $(BUILD)/libocto.so $(BUILD)/octo $(TEST_BIN)

$(BUILD)/%_avx2.o: %_avx2.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(AVX2_FLAGS) -MMD -MP -c $< -o $@

$(BUILD)/%_avx512.o: %_avx512.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(AVX512_FLAGS) -MMD -MP -c $< -o $@

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/libocto.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/libocto.so: $(LIB_OBJ)
	$(CC) -shared -o $@ $^ $(LDLIBS)

$(BUILD)/octo: $(CLI_OBJ) $(BUILD)/libocto.a
	$(CC) -o $@ $(CLI_OBJ) $(BUILD)/libocto.a $(LDLIBS)

$(BUILD)/tests/%: tests/%.c $(TEST_HELPER_SRC) $(BUILD)/libocto.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests -o $@ $< $(TEST_HELPER_SRC) $(BUILD)/libocto.a $(LDLIBS)

test: all
	@sh tests/run.sh $(BUILD)

# The whole suite again under ASan/UBSan (hostile-input tests included).
test-sanitize:
	$(MAKE) BUILD=build-asan SANITIZE=1 OPT=-O1 test

# The whole suite with the portable C kernels only.
test-scalar:
	$(MAKE) BUILD=build-scalar ISA=scalar test

# The README's first command: build, then run the default android agent
# (models/android) on a request; the handlers act on this machine.
DEMO_REQUEST ?= Turn on the flashlight, set the brightness to 40 percent and take a screenshot
demo: all
	@if [ -f models/android/planner.gguf ]; then \
	  echo '$$ octo run --domain android "$(DEMO_REQUEST)"'; \
	  ./$(BUILD)/octo run --domain android -t 2 "$(DEMO_REQUEST)"; \
	else echo "demo: models/android/planner.gguf not found (MODE=full models/train_defaults.sh makes it)"; exit 1; fi

$(BUILD)/bench_kernels: bench/kernels.c $(BUILD)/libocto.a
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libocto.a $(LDLIBS)

$(BUILD)/bench_lora: bench/lora.c $(BUILD)/libocto.a
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libocto.a $(LDLIBS)

$(BUILD)/membw: bench/membw.c
	$(CC) -O3 -march=native -pthread -o $@ $<

bench: all $(BUILD)/bench_kernels $(BUILD)/membw
	@sh bench/run.sh $(BUILD)

clean:
	rm -rf $(BUILD) build-asan build-scalar

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d)

.PHONY: all test test-sanitize test-scalar bench clean demo
