#!/usr/bin/python3
"""Workload W1 of bench/SPEC.md (shared) with PyTorch scalar tensors: the peer for the maya Tape.

Every x_i is its own 0-dim float64 leaf tensor, so PyTorch records one graph node per scalar
operation, as maya does. That is slow, so this runs R = 5 rounds (not the spec's 100) and scales
the time by 100 / R; the loss and gradient checksum printed are those at R = 5, which
bench_scalar_chain also prints for comparison.

    /usr/bin/python3 bench/scalar_chain_torch.py [--rounds 5] [--repeats 5]
"""
import argparse
import math
import platform
import statistics
import time

import torch

N_INPUTS = 1000
SPEC_ROUNDS = 100


def scalar_chain(x, rounds):
    y = torch.zeros((), dtype=torch.float64)
    for _ in range(rounds):
        for xi in x:
            y = y + torch.sin(xi * y + 0.1) * torch.exp(-0.01 * xi) / (1.0 + y * y)
    return y


def gradient(rounds):
    x = [torch.tensor(0.5 + i / N_INPUTS, dtype=torch.float64, requires_grad=True)
         for i in range(N_INPUTS)]
    y = scalar_chain(x, rounds)
    y.backward()
    return y.item(), [xi.grad.item() for xi in x]


def primal(rounds):
    with torch.no_grad():
        x = [torch.tensor(0.5 + i / N_INPUTS, dtype=torch.float64) for i in range(N_INPUTS)]
        return scalar_chain(x, rounds).item()


def median_seconds(function, repeats):
    """Median (real, CPU) seconds of `repeats` timed calls after one warm-up call. CPU time is what
    bench_scalar_chain's ratios use: on a shared machine real time also counts other processes."""
    function()
    real, cpu = [], []
    for _ in range(repeats):
        start_real, start_cpu = time.perf_counter(), time.process_time()
        function()
        real.append(time.perf_counter() - start_real)
        cpu.append(time.process_time() - start_cpu)
    return statistics.median(real), statistics.median(cpu)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="R (the spec's R is 100)")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs; the median is reported")
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)

    loss, grads = gradient(args.rounds)
    checksum = sum(abs(g) for g in grads)
    if not (math.isfinite(loss) and math.isfinite(checksum)):
        raise SystemExit("W1 torch: non-finite loss or gradient")

    scale = SPEC_ROUNDS / args.rounds
    nodes = N_INPUTS + 1 + 10 * N_INPUTS * args.rounds
    gradient_real, gradient_s = median_seconds(lambda: gradient(args.rounds), args.repeats)
    primal_real, primal_s = median_seconds(lambda: primal(args.rounds), args.repeats)

    print(f"W1 PyTorch {torch.__version__} (Python {platform.python_version()}), "
          f"{torch.get_num_threads()} thread, float64 scalar tensors")
    print(f"  R = {args.rounds}: loss {loss:.15g}  sum|g| {checksum:.15g}")
    print(f"  gradient (forward + backward): CPU {gradient_s * 1e3:.1f} ms at R = {args.rounds} "
          f"(real {gradient_real * 1e3:.1f} ms), {gradient_s * scale * 1e3:.0f} ms scaled to "
          f"R = {SPEC_ROUNDS}, {gradient_s / nodes * 1e9:.0f} ns per recorded operation")
    print(f"  forward only (no_grad): CPU {primal_s * 1e3:.1f} ms at R = {args.rounds} "
          f"(real {primal_real * 1e3:.1f} ms), {primal_s * scale * 1e3:.0f} ms scaled to "
          f"R = {SPEC_ROUNDS}")


if __name__ == "__main__":
    main()
