# The two commands of the README quick start:
#   make demo   install what is missing, build, run `tally demo`
#   make test   install what is missing, build, run every test
BUILD_DIR ?= build
JOBS ?= 2

.PHONY: demo test test-sanitize build deps lint clean

demo: build
	$(BUILD_DIR)/adapters/cli/tally demo

test: build
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j$(JOBS)

# The same tests under AddressSanitizer and UndefinedBehaviorSanitizer (no benchmarks).
test-sanitize: deps
	cmake -S . -B $(BUILD_DIR)-sanitize -G Ninja -DCMAKE_BUILD_TYPE=Debug -DTALLY_SANITIZE=ON -DTALLY_BUILD_BENCH=OFF
	cmake --build $(BUILD_DIR)-sanitize -j$(JOBS)
	ASAN_OPTIONS=detect_leaks=1 ctest --test-dir $(BUILD_DIR)-sanitize --output-on-failure -j$(JOBS)

build: deps
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build $(BUILD_DIR) -j$(JOBS)

deps:
	scripts/install-deps.sh

lint: build
	scripts/lint.sh $(BUILD_DIR)

clean:
	rm -rf $(BUILD_DIR)
