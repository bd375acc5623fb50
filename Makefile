# A thin wrapper over CMake. Every target installs missing system packages
# first (scripts/deps.sh), so each works on a fresh Debian machine.
#
#   make test     every test: the CMocka suite (gcc, -Werror), the same suite
#                 under ASan+UBSan (clang), the install/consumer check, and a
#                 short libFuzzer run of every fuzz target over its corpus
#   make          build the library, tests and tools
#   make bench    build and run the benchmarks
#   make bench-instructions  instructions per request of the wasm filter's
#                 request path and of a no-op module (callgrind; PROFILE=1
#                 adds the filter's per-function profile)
#   make demo     build the controller and the wasm data plane, then run the
#                 three-region demo (DURATION seconds of load, default 60) and
#                 write $(BUILD)/demo/report.html
#   make demo-nginx  the same three regions and policies on real processes:
#                 nginx with the module on every hop, a real HTTP server per
#                 service instance, a delaying TCP relay as the WAN (DURATION
#                 seconds per policy, run one after the other); writes
#                 $(BUILD)/demo-nginx/report.html
#   make bench-nginx  nginx with and without the module, side by side (wrk)
#   make bench-cpp-host CPP_HOST=<dir> CPP_SDK=<dir> WAMR=<dir>  the filter,
#                 a no-op and the ABI floor in Envoy's proxy-wasm host library
#                 on WAMR's interpreter (checkouts given; not part of test)
#   make install  install into PREFIX (default /usr/local)
#   make format   clang-format every C source in place

BUILD      ?= build
SAN_BUILD  ?= build-san
PREFIX     ?= /usr/local
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
FUZZ_SECONDS ?= 15
DURATION   ?= 60

CMAKE_FLAGS ?=

.PHONY: all deps configure build test test-unit test-san bench bench-instructions bench-cpp-host bench-nginx demo demo-nginx install format clean

all: build

deps:
	@sh scripts/deps.sh

configure: deps
	cmake -S . -B $(BUILD) -DSLATE_WERROR=ON $(CMAKE_FLAGS)

build: configure
	cmake --build $(BUILD) -j $(JOBS)

test-unit: build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

test-san: deps
	cmake -S . -B $(SAN_BUILD) -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug \
	    -DSLATE_WERROR=ON -DSLATE_SANITIZE=ON -DSLATE_BUILD_FUZZ=ON \
	    -DSLATE_BUILD_BENCH=OFF -DSLATE_FUZZ_SECONDS=$(FUZZ_SECONDS) $(CMAKE_FLAGS)
	cmake --build $(SAN_BUILD) -j $(JOBS)
	ctest --test-dir $(SAN_BUILD) --output-on-failure -j $(JOBS)

test: test-unit test-san

bench: build
	sh scripts/bench.sh $(BUILD)

bench-instructions: configure
	cmake --build $(BUILD) -j $(JOBS) --target wasm_native_filter wasm_native_noop
	sh bench/wasm_native/wasm_instructions.sh $(BUILD)/bench $(if $(PROFILE),--profile)

bench-cpp-host: configure
	cmake --build $(BUILD) -j $(JOBS) --target slate_filter slate_reporter slate_noop slate_abi_floor
	sh bench/cpp_host/run.sh $(BUILD) $(CPP_HOST) $(CPP_SDK) $(WAMR)

bench-nginx: configure
	cmake --build $(BUILD) -j $(JOBS) --target ngx_http_slate_module
	sh bench/nginx_bench.sh $(BUILD)

demo: configure
	cmake --build $(BUILD) -j $(JOBS) --target slate-controller slate_filter slate_reporter
	node examples/demo/demo.js --duration $(DURATION) \
	    --controller $(BUILD)/shims/controller/slate-controller \
	    --wasm-dir $(BUILD)/shims/wasm \
	    --out $(BUILD)/demo/report.html

demo-nginx: configure
	cmake --build $(BUILD) -j $(JOBS) --target slate-controller ngx_http_slate_module
	node examples/demo/nginx/demo-nginx.js --duration $(DURATION) \
	    --nginx /usr/sbin/nginx \
	    --module $(BUILD)/shims/nginx/ngx_http_slate_module.so \
	    --controller $(BUILD)/shims/controller/slate-controller \
	    --out $(BUILD)/demo-nginx/report.html

install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

format:
	find include libslate tests fuzz bench examples shims -name '*.[ch]' \
	    -not -path '*/generated/*' | xargs clang-format -i

clean:
	rm -rf $(BUILD) $(SAN_BUILD)
