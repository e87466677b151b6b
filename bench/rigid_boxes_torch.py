"""Workload W4 (bouncing boxes with corner contact and friction) in PyTorch eager, the peer of
bench_rigid_boxes. Prints one JSON line per (K, T): forward and gradient medians, loss and
checksum (sum |g| over the initial velocities and angular velocities)."""
import argparse
import json

import torch

from peer_common import measure

torch.set_default_dtype(torch.float64)

WIDTH, HEIGHT, MASS = 0.2, 0.1, 1.0
INERTIA = MASS * (WIDTH ** 2 + HEIGHT ** 2) / 12.0
STIFFNESS, DAMPING, FRICTION, SMOOTHING = 1e4, 30.0, 0.5, 0.01
GRAVITY, DT = -9.8, 1e-3


def rollout(pos, theta, vel, omega, steps):
    # Body-frame corners, counter-clockwise from (-w/2, -h/2).
    lx = torch.tensor([-WIDTH / 2, WIDTH / 2, WIDTH / 2, -WIDTH / 2])
    ly = torch.tensor([-HEIGHT / 2, -HEIGHT / 2, HEIGHT / 2, HEIGHT / 2])
    for _ in range(steps):
        c, s = torch.cos(theta)[:, None], torch.sin(theta)[:, None]
        rx, ry = c * lx - s * ly, s * lx + c * ly  # corner arms [K, 4]
        pen = torch.relu(-(pos[:, 1:2] + ry))
        contact = (pen > 0).to(pen.dtype)
        # Corner velocities v + omega x r.
        vcx = vel[:, 0:1] - omega[:, None] * ry
        vcy = vel[:, 1:2] + omega[:, None] * rx
        fy = (STIFFNESS * pen - DAMPING * vcy) * contact
        fx = -FRICTION * fy * torch.tanh(vcx / SMOOTHING)
        force = torch.stack([fx.sum(1), fy.sum(1)], dim=1)
        torque = (rx * fy - ry * fx).sum(1)
        vel = vel + DT * (force / MASS + torch.tensor([0.0, GRAVITY]))
        omega = omega + DT * torque / INERTIA
        pos = pos + DT * vel
        theta = theta + DT * omega
    return ((pos[:, 0] - 2.0) ** 2 + pos[:, 1] ** 2 + theta ** 2).sum()


def initial(k):
    pos = torch.stack([0.5 * torch.arange(k, dtype=torch.float64), torch.ones(k)], dim=1)
    return pos, torch.full((k,), 0.3), torch.tensor([[0.5, 0.0]]).repeat(k, 1), torch.full((k,), 2.0)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1:2000,256:2000")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    for item in args.sizes.split(","):
        k, steps = (int(x) for x in item.split(":"))

        def forward():
            with torch.no_grad():
                pos, theta, vel, omega = initial(k)
                return rollout(pos, theta, vel, omega, steps).item(), 0.0

        def gradient():
            pos, theta, vel, omega = initial(k)
            vel.requires_grad_()
            omega.requires_grad_()
            loss = rollout(pos, theta, vel, omega, steps)
            loss.backward()
            return loss.item(), (vel.grad.abs().sum() + omega.grad.abs().sum()).item()

        t_fwd, _ = measure(forward, args.repeats)
        t_grad, (loss, checksum) = measure(gradient, args.repeats)
        print(json.dumps({"framework": "pytorch", "version": torch.__version__, "K": k,
                          "steps": steps, "threads": args.threads, "forward_s": t_fwd,
                          "gradient_s": t_grad, "loss": loss, "checksum": checksum}), flush=True)


if __name__ == "__main__":
    main()
