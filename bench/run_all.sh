#!/usr/bin/env bash
# Runs maya's benchmarks and their peers side by side on this machine, one thread each (and W2
# again with THREADS threads each, default 4, where the machine has that many cores), and
# prints the tables recorded in docs/benchmarks.md. Usage:
#   bench/run_all.sh [BUILD_DIR]        (default build/bench, from `cmake --preset bench`)
# PYTHON selects the interpreter holding PyTorch (default /usr/bin/python3); JAX runs if it is
# importable there. Every program is pinned with taskset: the one-thread runs to core CORE
# (default 3, or 0 on a machine with fewer cores), the THREADS-thread run to the THREADS cores
# from CORE on.
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build/bench}"
python="${PYTHON:-/usr/bin/python3}"
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
# XLA's CPU backend: no Eigen thread pool inside an op. JAX still starts threads of its own, so
# the pinning below is what holds it to one core.
export XLA_FLAGS="--xla_cpu_multi_thread_eigen=false"
core="${CORE:-3}"
[[ "$(nproc)" -gt "$core" ]] || core=0
pin=(taskset -c "$core")

echo "## machine"
echo "$(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores, $(date -u +%Y-%m-%d)"
echo
echo "## W1 scalar chain"
"${pin[@]}" "$build/bench/bench_scalar_chain" --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
echo
echo "## Tensor micro-benchmarks"
"${pin[@]}" "$build/bench/bench_tensor_ops" --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
for workload in w2 w3 w4; do
  echo
  echo "## ${workload^^} against PyTorch eager"
  "${pin[@]}" "$python" bench/compare.py "$workload" --build "$build" --python "$python"
done
threads="${THREADS:-4}"
if [[ "$(nproc)" -ge $((core + threads)) && "$threads" -gt 1 ]]; then
  echo
  echo "## W2 against PyTorch eager, $threads threads each"
  OMP_NUM_THREADS="$threads" taskset -c "$core-$((core + threads - 1))" \
    "$python" bench/compare.py w2 --build "$build" --python "$python" \
    --threads "$threads"
fi
if "$python" -c "import jax" 2>/dev/null; then
  echo
  echo "## W2 in JAX (jit + lax.scan, CPU)"
  JAX_PLATFORMS=cpu "${pin[@]}" "$python" bench/spring_lattice_jax.py
fi
