#!/usr/bin/env bash
# The W3 GPU rows of docs/gpu.md and docs/benchmarks.md on a machine with a CUDA GPU: the GPU
# tests, maya's W3 gradient (fused step nodes, fused layers; graph replay and recorded every
# call), then JAX jit on the same GPU.
# Usage: bench/run_w3_gpu.sh [BUILD_DIR]   (a build with the CUDA backend)
# PYTHON selects the interpreter holding JAX (default python3).
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build/release}"
python="${PYTHON:-python3}"
echo "## machine"
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
echo "$(date -u +%Y-%m-%dT%H:%MZ)"
"$build/tests/maya_gpu_tests" | grep -E "PASSED|SKIPPED|FAILED"
echo "## maya"
"$build/bench/bench_gpu" --benchmark_filter='w3_' --benchmark_repetitions=3 \
  --benchmark_report_aggregates_only=true
echo "## JAX jit"
(cd bench && "$python" policy_rollout_jax.py)
