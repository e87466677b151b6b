"""Workload W2 in JAX: jit + lax.scan, the peer for compiled loops. Compile time is reported
separately from the steady-state median. Prints one JSON line per (G, T)."""
import argparse
import json
import statistics
import time

import jax
import jax.numpy as jnp

jax.config.update("jax_enable_x64", True)


def lattice(g):
    idx = lambda i, j: i * g + j
    pos = jnp.array([[0.02 * i, 0.3 + 0.02 * j] for i in range(g) for j in range(g)])
    first, second = [], []
    for i in range(g):
        for j in range(g):
            if i + 1 < g:
                first.append(idx(i, j)); second.append(idx(i + 1, j))
            if j + 1 < g:
                first.append(idx(i, j)); second.append(idx(i, j + 1))
            if i + 1 < g and j + 1 < g:
                first.append(idx(i, j)); second.append(idx(i + 1, j + 1))
                first.append(idx(i + 1, j)); second.append(idx(i, j + 1))
    a, b = jnp.array(first), jnp.array(second)
    return pos, a, b, jnp.linalg.norm(pos[b] - pos[a], axis=1)


def make_loss(pos0, a, b, rest, steps, dt=1e-3, c=5.0):
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

    def loss(k, v0):
        (p, _, _), _ = jax.lax.scan(step, (pos0, v0, k), None, length=steps)
        return jnp.mean(jnp.sum((p - jnp.array([1.0, 0.1])) ** 2, axis=1))

    return loss


def median_time(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        out = jax.block_until_ready(fn())
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="16:1000,64:1000,128:1000")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    for item in args.sizes.split(","):
        g, steps = (int(x) for x in item.split(":"))
        pos, a, b, rest = lattice(g)
        loss = make_loss(pos, a, b, rest, steps)
        k = jnp.full((a.shape[0],), 1000.0)
        v0 = jnp.tile(jnp.array([[1.0, 0.0]]), (g * g, 1))
        forward = jax.jit(loss)
        gradient = jax.jit(jax.value_and_grad(loss, argnums=(0, 1)))
        start = time.perf_counter()
        jax.block_until_ready(forward(k, v0))
        jax.block_until_ready(gradient(k, v0))
        compile_s = time.perf_counter() - start
        t_fwd, _ = median_time(lambda: forward(k, v0), args.repeats)
        t_grad, (value, (gk, gv)) = median_time(lambda: gradient(k, v0), args.repeats)
        print(json.dumps({"framework": "jax", "version": jax.__version__,
                          "device": str(jax.devices()[0]), "G": g, "steps": steps,
                          "compile_s": compile_s, "forward_s": t_fwd, "gradient_s": t_grad,
                          "loss": float(value),
                          "checksum": float(jnp.abs(gk).sum() + jnp.abs(gv).sum())}))


if __name__ == "__main__":
    main()
