#!/usr/bin/env bash
# Installs the Debian 12 packages Tally needs, only those that are missing.
# Non-interactive; uses sudo when not root.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config ccache
  librocksdb-dev librdkafka-dev capnproto libcapnp-dev libboost-dev libsodium-dev
  libgtest-dev libgmock-dev libbenchmark-dev libcli11-dev
  libsimdjson-dev libtomlplusplus-dev
  clang-format clang-tidy
  # libFuzzer targets (tests/fuzz/): clang with its fuzzer and sanitizer runtimes.
  clang libclang-rt-14-dev
  # The end-to-end tests against a real Apache Kafka broker (tests/kafka/).
  openjdk-17-jre-headless maven python3
  # The HTTP tests and benchmark (tests/service/, bench/http/).
  curl wrk python3-pip
)

missing=()
for package in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$package")
done

if ((${#missing[@]} > 0)); then
  echo "install-deps: installing ${missing[*]}"
  sudo=""
  if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The OpenAPI conformance test (tests/service/openapi_test.sh): Schemathesis
# from PyPI, pinned, for this user (Debian's Python refuses system-wide pip).
schemathesis_version=4.32.5
if ! python3 -c "import schemathesis, sys; sys.exit(schemathesis.__version__ != '$schemathesis_version')" 2> /dev/null; then
  echo "install-deps: installing schemathesis $schemathesis_version from PyPI"
  python3 -m pip install --quiet --user "schemathesis==$schemathesis_version" 2> /dev/null ||
    python3 -m pip install --quiet --user --break-system-packages "schemathesis==$schemathesis_version"
fi
