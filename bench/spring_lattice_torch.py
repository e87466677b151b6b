"""Workload W2 (spring lattice with ground contact) in PyTorch eager, the peer of
bench_spring_lattice. Prints one JSON line per (G, T): forward and gradient medians, loss and
checksum (sum |g| over stiffness and v0)."""
import argparse
import json

import torch

from peer_common import lattice_springs, measure

torch.set_default_dtype(torch.float64)


def lattice(g):
    positions, first, second = lattice_springs(g)
    pos = torch.tensor(positions)
    a = torch.tensor(first)
    b = torch.tensor(second)
    rest = (pos[b] - pos[a]).norm(dim=1)
    return pos, a, b, rest


def rollout(pos0, v0, k, a, b, rest, steps, dt=1e-3, c=5.0):
    n = pos0.shape[0]
    mass = torch.ones(n, 1)
    gravity = torch.tensor([0.0, -9.8])
    p, v = pos0, v0
    for _ in range(steps):
        d = p[b] - p[a]
        length = d.norm(dim=1, keepdim=True)
        u = d / length
        closing = ((v[b] - v[a]) * u).sum(dim=1, keepdim=True)
        f = (k[:, None] * (length - rest[:, None]) + c * closing) * u
        force = torch.zeros_like(p).index_add(0, a, f).index_add(0, b, -f)
        pen = torch.relu(-p[:, 1])
        contact = (pen > 0).to(p.dtype)
        ground = 1e4 * pen - 10.0 * v[:, 1] * contact
        force = force + torch.stack([torch.zeros_like(ground), ground], dim=1)
        v = v + dt * (force / mass + gravity)
        p = p + dt * v
    target = torch.tensor([1.0, 0.1])
    return ((p - target) ** 2).sum(dim=1).mean()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="16:1000,64:1000,128:100")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    for item in args.sizes.split(","):
        g, steps = (int(x) for x in item.split(":"))
        pos, a, b, rest = lattice(g)
        e = a.shape[0]

        def forward():
            with torch.no_grad():
                return rollout(pos, torch.tensor([[1.0, 0.0]]).repeat(g * g, 1),
                               torch.full((e,), 1000.0), a, b, rest, steps).item(), 0.0

        def gradient():
            k = torch.full((e,), 1000.0, requires_grad=True)
            v0 = torch.tensor([[1.0, 0.0]]).repeat(g * g, 1).requires_grad_()
            loss = rollout(pos, v0, k, a, b, rest, steps)
            loss.backward()
            return loss.item(), (k.grad.abs().sum() + v0.grad.abs().sum()).item()

        t_fwd, _ = measure(forward, args.repeats)
        t_grad, (loss, checksum) = measure(gradient, args.repeats)
        print(json.dumps({"framework": "pytorch", "version": torch.__version__, "G": g,
                          "steps": steps, "threads": args.threads, "forward_s": t_fwd,
                          "gradient_s": t_grad, "loss": loss, "checksum": checksum}))


if __name__ == "__main__":
    main()
