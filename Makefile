# Front for CMake + Ninja. The two commands a new user needs:
#   make run    install dependencies, build, start cbec on its embedded defaults
#   make test   install dependencies, build, run every test
BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc)
CMAKE_FLAGS ?= -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
CCACHE := $(shell command -v ccache 2>/dev/null)
ifneq ($(CCACHE),)
CMAKE_FLAGS += -DCMAKE_CXX_COMPILER_LAUNCHER=ccache
endif

.PHONY: all build deps web-deps test test-asan run bench bench-tools bench-compare bench-plot bench-alloc bench-memory bench-history bench-restart clean format

all: build

deps:
	@scripts/install-deps

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS)

# The pages' npm packages (ECharts, the QR code generator, playwright-core for the browser
# tests), exactly as web/package-lock.json pins them; CMake builds web/dist from them.
web/node_modules/.package-lock.json: web/package-lock.json
	cd web && npm ci --no-audit --no-fund

web-deps: web/node_modules/.package-lock.json

build: web-deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

test: deps build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

# Unit tests under AddressSanitizer + UndefinedBehaviorSanitizer (run by .ci/run).
# The browser tests (label "browser") drive the release binary and chromium: not sanitizer work.
test-asan: deps web-deps
	cmake -S . -B $(ASAN_BUILD) $(CMAKE_FLAGS) -DCBEC_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	ctest --test-dir $(ASAN_BUILD) --output-on-failure -j $(JOBS) -LE browser

# The service on its embedded defaults with the demo zone, fed a gentle stream of generated
# lists (5 per second) through its own HTTP API; Ctrl-C stops it gracefully.
run: deps build
	$(BUILD)/cbec serve --demo --feed 5 --hall-share 0.2 --data-dir data --listen 127.0.0.1:8080

# HTTP throughput and latency on this machine (see BENCHMARKS.md).
bench: deps build
	bench/run-http.sh $(BUILD)

# The benchmark tools build only what they run (see BENCHMARKS.md, "How to rerun").
BENCH_TARGETS := cbec cbec-load cbec-core-log-bench cbec-alloc-count cbec-history-bench
bench-tools: deps web-deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS) --target $(BENCH_TARGETS)

# cbec (core + durable log, and HTTP end to end) against the PostgreSQL design, side by side.
bench-compare: bench-tools
	bench/compare $(BUILD)

# Throughput and p99 vs offered load and vs records per message: PNGs in bench/plots/.
bench-plot: bench-tools
	bench/plot $(BUILD)

# Resident memory of cbec serve as history grows, sampled under a steady load (issue #3).
bench-memory: bench-tools
	bench/memory $(BUILD)

# Cost per list, p99 and RSS as the stored lists grow (LISTS=2000000 by default): bench/plots/history.png.
bench-history: bench-tools
	bench/history $(BUILD)

# Start-up time after history: from the shutdown snapshot against a replay of the whole log.
bench-restart: bench-tools
	bench/restart $(BUILD)

# Heap allocations per list of the clearance core in steady state.
bench-alloc: bench-tools
	$(BUILD)/cbec-alloc-count

format:
	clang-format -i $$(git ls-files 'src/*.cc' 'src/*.h' 'tests/*.cc' 'tests/*.h' | grep -v '\.gen\.h$$')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
