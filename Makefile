# Entry points: `make run` starts a single-node broker on localhost:9092 (data in ./data);
# `make test` builds everything and runs every test, then again under ASan+UBSan.
SHELL := /bin/bash
JOBS ?= $(shell nproc)
BUILD ?= build
ASAN_BUILD ?= build-asan
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# ccache hits across checkouts in different directories (CI clones anew each time).
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_NOHASHDIR := true

# Debian 12 packages; librdkafka, kcat and the Python clients are for tests and bench only.
DEB_PACKAGES := cmake ninja-build g++ make ccache pkg-config python3 \
  libboost1.81-dev libabsl-dev libspdlog-dev libcli11-dev libgtest-dev libgmock-dev \
  libbenchmark-dev zlib1g-dev libsnappy-dev liblz4-dev libzstd-dev \
  librdkafka-dev kcat python3-confluent-kafka python3-kafka

.PHONY: deps build run test unit-test integration-test asan-test bench format clean

deps:
	@missing=""; \
	for p in $(DEB_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	command -v node >/dev/null && command -v npm >/dev/null || missing="$$missing nodejs npm"; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

run: build
	mkdir -p data
	./$(BUILD)/broker/gregord --override log.dirs=./data

$(ASAN_BUILD)/build.ninja:
	cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DGREGOR_SANITIZE=ON

test: build
	cd $(BUILD) && ctest --output-on-failure -j 2
	$(MAKE) asan-test

asan-test: deps $(ASAN_BUILD)/build.ninja
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ctest --output-on-failure -j 2 -LE no-sanitizer

bench: build
	/usr/bin/python3 bench/run_bench.py --build $(BUILD)

format:
	find protocol storage broker coordinator tools tests bench -name '*.h' -o -name '*.cc' | xargs clang-format -i

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
