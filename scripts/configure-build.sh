#!/usr/bin/env bash
# Configures and builds one CMake preset (release, debug, asan-ubsan, bench) with ccache.
set -euo pipefail
preset="${1:?usage: configure-build.sh PRESET [targets...]}"
shift
cd "$(dirname "$0")/.."
# Paths relative to the checkout, so clones in other folders share ccache's results.
export CCACHE_BASEDIR="$PWD"
cmake --preset "$preset" -DCMAKE_CXX_COMPILER_LAUNCHER=ccache >/dev/null
if [[ $# -gt 0 ]]; then
  cmake --build --preset "$preset" --target "$@"
else
  cmake --build --preset "$preset"
fi
