"""Workload W3 (tanh policy controlling B point masses, T = 200) in JAX: jit + lax.scan, float64,
on JAX's default device (the GPU where there is one): the compiled peer of bench_gpu. Inputs from
splitmix64, bit-identical to maya's. One JSON line per B; compile time apart from the median."""
import argparse
import json
import time

import jax
import jax.numpy as jnp

from peer_common import measure, splitmix_values

jax.config.update("jax_enable_x64", True)


def loss_of(params, s0, steps=200):
    w1, b1, w2, b2 = params

    def step(carry, _):
        x, v, effort = carry
        state = jnp.concatenate([x, v], axis=1)
        action = jnp.tanh(jnp.tanh(state @ w1 + b1) @ w2 + b2)
        effort = effort + jnp.mean(jnp.sum(action * action, axis=1))
        v = v + 0.01 * (5.0 * action - 0.5 * v)
        x = x + 0.01 * v
        return (x, v, effort), None

    (x, _, effort), _ = jax.lax.scan(step, (s0[:, :2], s0[:, 2:], jnp.zeros(())), None,
                                     length=steps)
    return jnp.mean(jnp.sum(x * x, axis=1)) + effort * (1e-3 / steps)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--batches", default="256,4096")
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    for batch in (int(b) for b in args.batches.split(",")):
        s0 = jnp.array(splitmix_values((batch, 4), -1.0, 1.0, 1))
        params = (jnp.array(splitmix_values((4, 64), -0.5, 0.5, 2)), jnp.zeros(64),
                  jnp.array(splitmix_values((64, 2), -0.5, 0.5, 3)), jnp.zeros(2))
        gradient = jax.jit(jax.value_and_grad(loss_of))
        start = time.perf_counter()
        jax.block_until_ready(gradient(params, s0))
        compile_s = time.perf_counter() - start
        seconds, (loss, grads) = measure(lambda: gradient(params, s0), args.repeats,
                                         jax.block_until_ready)
        checksum = float(sum(jnp.sum(jnp.abs(g)) for g in grads))
        print(json.dumps({"framework": "jax", "version": jax.__version__, "B": batch,
                          "device": str(jax.devices()[0]), "gradient_s": seconds,
                          "compile_s": compile_s, "loss": float(loss), "checksum": checksum}),
              flush=True)


if __name__ == "__main__":
    main()
