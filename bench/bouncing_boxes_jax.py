"""Workload W4 (bouncing boxes with corner contact and friction) in JAX, one world and many: E
worlds of K boxes, world e with initial velocity (0.5 (1 + 0.5 e / E), 0) (world 0 is W4), the
sum over worlds of W4's loss, gradient w.r.t. every world's initial velocities and angular
velocities through jit(value_and_grad(sum(vmap(loss)))) with the steps in a lax.scan. The peer of
bench_rigid_worlds. Prints one JSON line per (K, E): gradient median, world-steps per second,
loss and checksum (sum |g| over the initial velocities and angular velocities)."""
import argparse
import json
import time

import jax
import jax.numpy as jnp

from peer_common import measure

jax.config.update("jax_enable_x64", True)

WIDTH, HEIGHT, MASS = 0.2, 0.1, 1.0
INERTIA = MASS * (WIDTH ** 2 + HEIGHT ** 2) / 12.0
STIFFNESS, DAMPING, FRICTION, SMOOTHING = 1e4, 30.0, 0.5, 0.01
GRAVITY, DT = -9.8, 1e-3
# Body-frame corners, counter-clockwise from (-w/2, -h/2).
LX = jnp.array([-WIDTH / 2, WIDTH / 2, WIDTH / 2, -WIDTH / 2])
LY = jnp.array([-HEIGHT / 2, -HEIGHT / 2, HEIGHT / 2, HEIGHT / 2])


def step(carry, _):
    pos, theta, vel, omega = carry
    c, s = jnp.cos(theta)[:, None], jnp.sin(theta)[:, None]
    rx, ry = c * LX - s * LY, s * LX + c * LY  # corner arms [K, 4]
    pen = jnp.maximum(-(pos[:, 1:2] + ry), 0.0)
    contact = (pen > 0).astype(pen.dtype)
    vcx = vel[:, 0:1] - omega[:, None] * ry
    vcy = vel[:, 1:2] + omega[:, None] * rx
    fy = (STIFFNESS * pen - DAMPING * vcy) * contact
    fx = -FRICTION * fy * jnp.tanh(vcx / SMOOTHING)
    force = jnp.stack([fx.sum(1), fy.sum(1)], axis=1)
    torque = (rx * fy - ry * fx).sum(1)
    vel = vel + DT * (force / MASS + jnp.array([0.0, GRAVITY]))
    omega = omega + DT * torque / INERTIA
    return (pos + DT * vel, theta + DT * omega, vel, omega), None


def make_loss(k, steps):
    pos0 = jnp.stack([0.5 * jnp.arange(k, dtype=jnp.float64), jnp.ones(k)], axis=1)
    theta0 = jnp.full((k,), 0.3)

    def loss(vel, omega):
        (pos, theta, _, _), _ = jax.lax.scan(step, (pos0, theta0, vel, omega), None,
                                             length=steps)
        return ((pos[:, 0] - 2.0) ** 2 + pos[:, 1] ** 2 + theta ** 2).sum()

    return loss


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--boxes", type=int, default=256)
    parser.add_argument("--worlds", default="1,16,256")
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    k = args.boxes
    one = make_loss(k, args.steps)
    for worlds in (int(x) for x in args.worlds.split(",")):
        scale = 1.0 + 0.5 * jnp.arange(worlds) / worlds
        vel = jnp.stack([0.5 * scale[:, None] * jnp.ones((1, k)), jnp.zeros((worlds, k))], axis=2)
        omega = jnp.full((worlds, k), 2.0)
        total = lambda vel, omega: jnp.sum(jax.vmap(one)(vel, omega))
        gradient = jax.jit(jax.value_and_grad(total, argnums=(0, 1)))
        start = time.perf_counter()
        jax.block_until_ready(gradient(vel, omega))
        compile_s = time.perf_counter() - start
        t_grad, (value, (gv, gw)) = measure(lambda: gradient(vel, omega), args.repeats,
                                            jax.block_until_ready)
        print(json.dumps({"framework": "jax", "version": jax.__version__,
                          "device": str(jax.devices()[0]), "K": k, "worlds": worlds,
                          "steps": args.steps, "compile_s": compile_s, "gradient_s": t_grad,
                          "world_steps_per_s": worlds * args.steps / t_grad,
                          "loss": float(value),
                          "checksum": float(jnp.abs(gv).sum() + jnp.abs(gw).sum())}),
              flush=True)


if __name__ == "__main__":
    main()
