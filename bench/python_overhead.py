"""The cost of calling maya from Python, against the same calls in C++.

Times, from Python, the calls that bench_call_overhead.cpp times in C++ (a scalar add, a tensor
add of one-element tensors, a 16-value tensor leaf from a NumPy array, one fused mass-spring step
of a 16 x 16 lattice) with the same tape clearing, and workload W3 (policy rollout, T = 200)
trained through maya.torch against bench_policy_rollout's fused gradient. With --build, runs the
two C++ programs of that build and prints the differences.

    PYTHONPATH=build/bench/python python3 bench/python_overhead.py --build build/bench
"""

import argparse
import json
import pathlib
import subprocess
import sys
import time

import numpy as np
import torch

import maya
import maya.torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "python" / "examples"))
import policy_training  # noqa: E402

CLEAR_EVERY = 4096


def per_call(run, calls, repeats=7):
    """Best over repeats of the time per call, in nanoseconds."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        run(calls)
        best = min(best, (time.perf_counter() - start) / calls)
    return best * 1e9


def scalar_add(calls):
    tape = maya.Tape()
    x, y = tape.var(1.0), tape.var(2.0)
    for i in range(1, calls + 1):
        x + y
        if i % CLEAR_EVERY == 0:
            tape.clear()
            x, y = tape.var(1.0), tape.var(2.0)


def tensor_add(calls):
    tape = maya.TensorTape()
    one = np.ones(1)
    a, b = tape.var(one), tape.var(one)
    for i in range(1, calls + 1):
        a + b
        if i % CLEAR_EVERY == 0:
            tape.clear()
            a, b = tape.var(one), tape.var(one)


def tensor_leaf(calls):
    tape = maya.TensorTape()
    values = np.ones(16)
    for i in range(1, calls + 1):
        tape.var(values)
        if i % CLEAR_EVERY == 0:
            tape.clear()


LATTICE = maya.make_spring_lattice(maya.LatticeOptions(size=16))


def mass_spring_step(calls):
    tape = maya.TensorTape()
    model = LATTICE.model
    springs = model.num_springs

    def record():
        s = tape.var(maya.MassSpringModel.make_state(LATTICE.positions, LATTICE.velocities))
        params = maya.SpringParameters(tape.constant(LATTICE.masses),
                                       tape.constant(np.full(springs, 1e3)),
                                       tape.constant(np.full(springs, 1.0)),
                                       tape.constant(LATTICE.rest_length))
        return s, params

    s, params = record()
    for i in range(1, calls + 1):
        s = model.step(s, params, 1e-3)
        if i % 256 == 0:
            tape.clear()
            s, params = record()


def w3_bridge_ms(batch, repeats):
    """Forward + backward of W3 through maya.torch (the policy's Parameters get the gradient)."""
    initial_state = policy_training.splitmix_uniform((batch, 4), -1.0, 1.0, 1)
    policy = policy_training.Policy()
    loss_fn = maya.torch.function(policy_training.record_w3_loss(initial_state))
    best = float("inf")
    for _ in range(repeats + 1):  # the first is a warm-up
        policy.zero_grad()
        start = time.perf_counter()
        loss = loss_fn(policy.w1, policy.b1, policy.w2, policy.b2)
        loss.backward()
        best = min(best, time.perf_counter() - start)
    checksum = sum(float(p.grad.abs().sum()) for p in policy.parameters())
    return best * 1e3, float(loss), checksum


def w3_python_ms(batch, repeats):
    """The same rollout and gradient recorded from Python on a reused tape, without torch."""
    initial_state = policy_training.splitmix_uniform((batch, 4), -1.0, 1.0, 1)
    policy = policy_training.Policy()
    record = policy_training.record_w3_loss(initial_state)
    weights = [p.detach().numpy() for p in policy.parameters()]
    tape = maya.TensorTape()
    best = float("inf")
    for _ in range(repeats + 1):
        tape.clear()
        start = time.perf_counter()
        leaves = [tape.var(w) for w in weights]
        gradients = tape.grad(record(tape, *leaves))
        best = min(best, time.perf_counter() - start)
    return best * 1e3, sum(float(np.abs(gradients[leaf]).sum()) for leaf in leaves)


def cpp_benchmarks(program, filter_regex):
    out = subprocess.run([str(program), f"--benchmark_filter={filter_regex}",
                          "--benchmark_format=json", "--benchmark_repetitions=5",
                          "--benchmark_report_aggregates_only=true"],
                         check=True, capture_output=True, text=True).stdout
    results = {}
    for b in json.loads(out)["benchmarks"]:
        if b.get("aggregate_name") == "median":
            scale = {"ns": 1.0, "us": 1e3, "ms": 1e6}[b["time_unit"]]
            results[b["run_name"]] = b["real_time"] * scale
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--build", type=pathlib.Path, help="build folder with bench/ programs")
    parser.add_argument("--large", action="store_true", help="also W3 at B = 4096")
    args = parser.parse_args()
    torch.set_num_threads(1)

    python_ns = {
        "scalar_add": per_call(scalar_add, 200_000),
        "tensor_add": per_call(tensor_add, 100_000),
        "tensor_leaf": per_call(tensor_leaf, 100_000),
        "mass_spring_step": per_call(mass_spring_step, 2_000),
    }
    cpp_ns = {}
    if args.build:
        cpp_ns = cpp_benchmarks(args.build / "bench" / "bench_call_overhead", ".")
    print("call                 Python ns   C++ ns   difference ns")
    for name, ns in python_ns.items():
        cpp = cpp_ns.get(name)
        diff = f"{ns - cpp:10.0f}" if cpp is not None else "         -"
        cpp_text = f"{cpp:8.0f}" if cpp is not None else "       -"
        print(f"{name:20s} {ns:10.0f} {cpp_text} {diff}")

    batches = [256, 4096] if args.large else [256]
    cpp_w3 = {}
    if args.build:
        cpp_w3 = cpp_benchmarks(args.build / "bench" / "bench_policy_rollout",
                                "fused_gradient")
    print("\nW3 (T = 200)  C++ ms  Python ms  ratio  bridge ms  ratio  loss  checksum")
    for batch in batches:
        repeats = 7 if batch == 256 else 3
        bridge, loss, checksum = w3_bridge_ms(batch, repeats)
        plain, _ = w3_python_ms(batch, repeats)
        cpp = cpp_w3.get(f"fused_gradient/{batch}/real_time")
        cpp_ms = cpp / 1e6 if cpp is not None else float("nan")
        print(f"B = {batch:5d}  {cpp_ms:7.2f}  {plain:9.2f}  {plain / cpp_ms:5.2f}  "
              f"{bridge:9.2f}  {bridge / cpp_ms:5.2f}  {loss:.9f}  {checksum:.9f}")


if __name__ == "__main__":
    main()
