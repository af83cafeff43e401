#!/usr/bin/env bash
# Installs the Debian 12 packages Tally needs, only those that are missing.
# Non-interactive; uses sudo when not root.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  librocksdb-dev librdkafka-dev capnproto libcapnp-dev libboost-dev libsodium-dev
  libgtest-dev libgmock-dev libbenchmark-dev libcli11-dev
  libsimdjson-dev
  clang-format clang-tidy
  # libFuzzer targets (tests/fuzz/): clang with its fuzzer and sanitizer runtimes.
  clang libclang-rt-14-dev
  # The end-to-end tests against a real Apache Kafka broker (tests/kafka/).
  openjdk-17-jre-headless maven python3
)

missing=()
for package in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$package")
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo=""
if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
