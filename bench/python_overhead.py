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


# Process CPU time, on both sides (Google Benchmark's cpu_time): on a shared machine it leaves out
# the time other programs hold the cores. maya runs on one thread unless told otherwise.
clock = time.process_time


def per_call(run, calls, repeats=15):
    """Best over repeats of the CPU time per call, in nanoseconds."""
    best = float("inf")
    for _ in range(repeats):
        start = clock()
        run(calls)
        best = min(best, (clock() - start) / calls)
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
        start = clock()
        loss = loss_fn(policy.w1, policy.b1, policy.w2, policy.b2)
        loss.backward()
        best = min(best, clock() - start)
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
        start = clock()
        leaves = [tape.var(w) for w in weights]
        gradients = tape.grad(record(tape, *leaves))
        best = min(best, clock() - start)
    return best * 1e3, sum(float(np.abs(gradients[leaf]).sum()) for leaf in leaves)


def cpp_benchmarks(program, filter_regex, repetitions):
    """The fastest repetition of each benchmark (CPU time), in nanoseconds."""
    out = subprocess.run([str(program), f"--benchmark_filter={filter_regex}",
                          "--benchmark_format=json", f"--benchmark_repetitions={repetitions}"],
                         check=True, capture_output=True, text=True).stdout
    results = {}
    for b in json.loads(out)["benchmarks"]:
        if b.get("run_type") == "iteration":
            scale = {"ns": 1.0, "us": 1e3, "ms": 1e6}[b["time_unit"]]
            name = b["run_name"]
            results[name] = min(results.get(name, float("inf")), b["cpu_time"] * scale)
    return results


def fastest(rounds, measure):
    """Minimum over rounds of each entry of measure() -> dict: on a shared machine the fastest
    of alternating rounds is the figure least disturbed by other load."""
    best = {}
    for _ in range(rounds):
        for key, value in measure().items():
            best[key] = min(best.get(key, float("inf")), value)
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--build", type=pathlib.Path, help="build folder with bench/ programs")
    parser.add_argument("--large", action="store_true", help="also W3 at B = 4096")
    parser.add_argument("--rounds", type=int, default=3,
                        help="alternating rounds of C++ and Python; the fastest of each counts")
    args = parser.parse_args()
    torch.set_num_threads(1)

    def measure_calls():
        times = {
            "scalar_add": per_call(scalar_add, 20_000),
            "tensor_add": per_call(tensor_add, 20_000),
            "tensor_leaf": per_call(tensor_leaf, 20_000),
            "mass_spring_step": per_call(mass_spring_step, 512),
        }
        if args.build:
            cpp = cpp_benchmarks(args.build / "bench" / "bench_call_overhead", ".", 10)
            times.update({f"cpp:{name}": value for name, value in cpp.items()})
        return times

    calls = fastest(args.rounds, measure_calls)
    python_ns = {name: value for name, value in calls.items() if not name.startswith("cpp:")}
    cpp_ns = {name[4:]: value for name, value in calls.items() if name.startswith("cpp:")}
    print(f"maya threads: {maya.num_threads()}; times are process CPU time, fastest of "
          f"{args.rounds} alternating rounds")
    print("call                 Python ns   C++ ns   difference ns")
    for name, ns in python_ns.items():
        cpp = cpp_ns.get(name)
        diff = f"{ns - cpp:10.0f}" if cpp is not None else "         -"
        cpp_text = f"{cpp:8.0f}" if cpp is not None else "       -"
        print(f"{name:20s} {ns:10.0f} {cpp_text} {diff}")

    batches = [256, 4096] if args.large else [256]
    print("\nW3 (T = 200)  C++ ms  Python ms  ratio  bridge ms  ratio  loss  checksum")
    for batch in batches:
        repeats = 7 if batch == 256 else 3
        outcome = {}

        def measure_w3():
            bridge, outcome["loss"], outcome["checksum"] = w3_bridge_ms(batch, repeats)
            times = {"bridge": bridge, "plain": w3_python_ms(batch, repeats)[0]}
            if args.build:
                cpp = cpp_benchmarks(args.build / "bench" / "bench_policy_rollout",
                                     f"fused_gradient/{batch}/", repeats)
                times["cpp"] = cpp[f"fused_gradient/{batch}/real_time"] / 1e6
            return times

        w3 = fastest(args.rounds, measure_w3)
        bridge, plain, loss, checksum = w3["bridge"], w3["plain"], outcome["loss"], outcome["checksum"]
        cpp_ms = w3.get("cpp", float("nan"))
        print(f"B = {batch:5d}  {cpp_ms:7.2f}  {plain:9.2f}  {plain / cpp_ms:5.2f}  "
              f"{bridge:9.2f}  {bridge / cpp_ms:5.2f}  {loss:.9f}  {checksum:.9f}")


if __name__ == "__main__":
    main()
