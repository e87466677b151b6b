"""Workload W5 in JAX: E worlds of W2's G = 8 lattice, world e with stiffness 1000 (1 + 0.5 e / E),
loss = mean over worlds of W2's loss, gradient w.r.t. every world's stiffness and initial
velocities through jit(value_and_grad(mean(vmap(loss)))). Prints one JSON line per E with
world-steps per second."""
import argparse
import json
import time

import jax
import jax.numpy as jnp

from peer_common import measure
from spring_lattice_jax import lattice, make_loss

jax.config.update("jax_enable_x64", True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--worlds", default="1024,16384")
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--remat", action="store_true",
                        help="checkpoint each step (needed for E = 16384 to fit in memory)")
    args = parser.parse_args()
    g = 8
    pos, a, b, rest = lattice(g)
    one = make_loss(pos, a, b, rest, args.steps, remat=args.remat)
    for worlds in (int(x) for x in args.worlds.split(",")):
        scale = 1.0 + 0.5 * jnp.arange(worlds) / worlds
        k = 1000.0 * scale[:, None] * jnp.ones((1, a.shape[0]))
        v0 = jnp.tile(jnp.array([[[1.0, 0.0]]]), (worlds, g * g, 1))
        mean_loss = lambda k, v0: jnp.mean(jax.vmap(one)(k, v0))
        gradient = jax.jit(jax.value_and_grad(mean_loss, argnums=(0, 1)))
        start = time.perf_counter()
        jax.block_until_ready(gradient(k, v0))
        compile_s = time.perf_counter() - start
        t_grad, (value, (gk, gv)) = measure(lambda: gradient(k, v0), args.repeats,
                                            jax.block_until_ready)
        print(json.dumps({"framework": "jax", "version": jax.__version__,
                          "device": str(jax.devices()[0]), "worlds": worlds, "G": g,
                          "steps": args.steps, "remat": args.remat, "compile_s": compile_s,
                          "gradient_s": t_grad,
                          "world_steps_per_s": worlds * args.steps / t_grad,
                          "loss": float(value),
                          "checksum": float(jnp.abs(gk).sum() + jnp.abs(gv).sum())}),
              flush=True)


if __name__ == "__main__":
    main()
