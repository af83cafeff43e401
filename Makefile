# The two commands of the README quick start:
#   make demo   install what is missing, build, run `tally demo`
#   make test   install what is missing, build, run every test
BUILD_DIR ?= build
JOBS ?= 2

.PHONY: demo test test-sanitize test-release fuzz build deps lint clean
FUZZ_SECONDS ?= 30

# ccache, when installed, across clones: paths below this directory are hashed
# relative to it, so a fresh clone elsewhere reuses what an earlier one compiled.
ifneq ($(shell command -v ccache 2>/dev/null),)
LAUNCHER := -DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_NOHASHDIR := true
endif

demo: build
	$(BUILD_DIR)/adapters/cli/tally demo

test: build
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j$(JOBS)

# The same tests under AddressSanitizer and UndefinedBehaviorSanitizer (no benchmarks).
test-sanitize: deps
	cmake -S . -B $(BUILD_DIR)-sanitize -G Ninja $(LAUNCHER) -DCMAKE_BUILD_TYPE=Debug -DTALLY_SANITIZE=ON -DTALLY_BUILD_BENCH=OFF
	cmake --build $(BUILD_DIR)-sanitize -j$(JOBS)
	ASAN_OPTIONS=detect_leaks=1 ctest --test-dir $(BUILD_DIR)-sanitize --output-on-failure -j$(JOBS)

# Every test but the real-broker one in a Release build (-O3 -DNDEBUG): the
# compiler's warnings differ by optimisation level, and -Werror is on.
test-release: deps
	cmake -S . -B $(BUILD_DIR)-release -G Ninja $(LAUNCHER) -DCMAKE_BUILD_TYPE=Release -DTALLY_BUILD_BENCH=OFF
	cmake --build $(BUILD_DIR)-release -j$(JOBS)
	ctest --test-dir $(BUILD_DIR)-release --output-on-failure -j$(JOBS) -E KafkaEndToEnd

# The libFuzzer targets (tests/fuzz) built with clang, ASan and UBSan: each
# replays its committed regressions, then fuzzes FUZZ_SECONDS from seeds.
fuzz: deps
	cmake -S . -B $(BUILD_DIR)-fuzz -G Ninja $(LAUNCHER) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTALLY_FUZZ=ON \
	  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DTALLY_FUZZ_SECONDS=$(FUZZ_SECONDS)
	cmake --build $(BUILD_DIR)-fuzz -j$(JOBS)
	ctest --test-dir $(BUILD_DIR)-fuzz --output-on-failure

build: deps
	cmake -S . -B $(BUILD_DIR) -G Ninja $(LAUNCHER) -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build $(BUILD_DIR) -j$(JOBS)

deps:
	scripts/install-deps.sh

lint: build
	scripts/lint.sh $(BUILD_DIR)

clean:
	rm -rf $(BUILD_DIR)
