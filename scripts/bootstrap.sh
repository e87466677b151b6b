#!/usr/bin/env bash
# Installs, with apt-get, whatever maya needs to build and test that this Debian machine lacks.
# Idempotent and silent when everything is already there.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache clang-format
  libeigen3-dev libgtest-dev libgmock-dev libbenchmark-dev nlohmann-json3-dev libcli11-dev
  libtinyxml2-dev liburdfdom-dev python3-dev pybind11-dev libjs-three
)
# Tools only the test suite uses (the Python tests run on Debian's /usr/bin/python3; MuJoCo is the
# multibody layer's reference; ADOL-C is a peer of the scalar-tape benchmark; clang and its runtime
# build the fuzzers).
test_packages=(chromium libpng-dev libmujoco-dev python3-numpy python3-pytest python3-torch
  libadolc-dev clang-14 libclang-rt-14-dev)
[[ "${1:-}" == "--with-test-tools" ]] && packages+=("${test_packages[@]}")

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "bootstrap: installing ${missing[*]}" >&2
sudo_cmd=()
[[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq >/dev/null
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
