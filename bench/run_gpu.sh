#!/usr/bin/env bash
# The GPU rows of docs/benchmarks.md ("GPU physics") on a machine with a CUDA GPU: maya's W2 and
# W5 gradients with the default kernels and each variant forced, then JAX jit on the same GPU,
# then W5 on the CPU; then W4's rigid worlds the same way (maya on the GPU, JAX, maya on the CPU).
# Usage: bench/run_gpu.sh [BUILD_DIR]   (a build configured with -DMAYA_CUDA=ON)
# PYTHON selects the interpreter holding JAX (default python3).
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build/release}"
python="${PYTHON:-python3}"
echo "## machine"
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
echo "$(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ)"
for kernels in default resident lanes split gather tiled; do
  echo
  echo "## maya, $kernels kernels"
  if [[ $kernels == default ]]; then
    "$build/bench/bench_spring_worlds" --benchmark_filter=gpu
  else
    MAYA_SPRING_KERNEL=$kernels "$build/bench/bench_spring_worlds" --benchmark_filter=gpu
  fi
done
echo
echo "## JAX jit, W2 (checkpointed steps from G = 512) and W5 (jit(vmap))"
(cd bench && "$python" spring_lattice_jax.py --sizes 16:1000,128:1000,512:1000,1024:1000 \
  --remat-from 512)
(cd bench && "$python" spring_worlds_jax.py --worlds 1024)
(cd bench && "$python" spring_worlds_jax.py --worlds 16384 --remat)
echo
echo "## maya W5 on the CPU, $(nproc) threads"
MAYA_NUM_THREADS="$(nproc)" "$build/bench/bench_spring_worlds" --benchmark_filter=cpu
echo
echo "## maya W4 rigid worlds on the GPU, then JAX jit(vmap), then maya on $(nproc) CPU threads"
"$build/bench/bench_rigid_worlds" --benchmark_filter=w4_gpu
(cd bench && "$python" bouncing_boxes_jax.py --worlds 1,16,256)
MAYA_NUM_THREADS="$(nproc)" "$build/bench/bench_rigid_worlds" --benchmark_filter=w4_cpu
