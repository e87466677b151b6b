"""Workload W2 in JAX: jit + lax.scan, the peer for compiled loops. Compile time is reported
separately from the steady-state median. Prints one JSON line per (G, T)."""
import argparse
import json
import time

import jax
import jax.numpy as jnp

from peer_common import lattice_springs, measure

jax.config.update("jax_enable_x64", True)


def lattice(g):
    positions, first, second = lattice_springs(g)
    pos = jnp.array(positions)
    a, b = jnp.array(first), jnp.array(second)
    return pos, a, b, jnp.linalg.norm(pos[b] - pos[a], axis=1)


def make_loss(pos0, a, b, rest, steps, dt=1e-3, c=5.0, remat=False):
    gravity = jnp.array([0.0, -9.8])

    def step(carry, _):
        p, v, k = carry
        d = p[b] - p[a]
        length = jnp.linalg.norm(d, axis=1, keepdims=True)
        u = d / length
        closing = jnp.sum((v[b] - v[a]) * u, axis=1, keepdims=True)
        f = (k[:, None] * (length - rest[:, None]) + c * closing) * u
        force = jnp.zeros_like(p).at[a].add(f).at[b].add(-f)
        pen = jax.nn.relu(-p[:, 1])
        ground = 1e4 * pen - 10.0 * v[:, 1] * (pen > 0)
        force = force.at[:, 1].add(ground)
        v = v + dt * (force + gravity)
        return (p + dt * v, v, k), None

    # remat: keep only each step's carry for the reverse pass and recompute the rest (what
    # large lattices need to fit in memory; maya's kernels keep the same states).
    body = jax.checkpoint(step) if remat else step

    def loss(k, v0):
        (p, _, _), _ = jax.lax.scan(body, (pos0, v0, k), None, length=steps)
        return jnp.mean(jnp.sum((p - jnp.array([1.0, 0.1])) ** 2, axis=1))

    return loss


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="16:1000,64:1000,128:1000")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--remat-from", type=int, default=1 << 30,
                        help="checkpoint each step (jax.checkpoint) from this G up")
    args = parser.parse_args()
    for item in args.sizes.split(","):
        g, steps = (int(x) for x in item.split(":"))
        pos, a, b, rest = lattice(g)
        remat = g >= args.remat_from
        loss = make_loss(pos, a, b, rest, steps, remat=remat)
        k = jnp.full((a.shape[0],), 1000.0)
        v0 = jnp.tile(jnp.array([[1.0, 0.0]]), (g * g, 1))
        forward = jax.jit(loss)
        gradient = jax.jit(jax.value_and_grad(loss, argnums=(0, 1)))
        start = time.perf_counter()
        jax.block_until_ready(forward(k, v0))
        jax.block_until_ready(gradient(k, v0))
        compile_s = time.perf_counter() - start
        t_fwd, _ = measure(lambda: forward(k, v0), args.repeats, jax.block_until_ready)
        t_grad, (value, (gk, gv)) = measure(lambda: gradient(k, v0), args.repeats, jax.block_until_ready)
        print(json.dumps({"framework": "jax", "version": jax.__version__,
                          "device": str(jax.devices()[0]), "G": g, "steps": steps, "remat": remat,
                          "compile_s": compile_s, "forward_s": t_fwd, "gradient_s": t_grad,
                          "loss": float(value),
                          "checksum": float(jnp.abs(gk).sum() + jnp.abs(gv).sum())}))


if __name__ == "__main__":
    main()
