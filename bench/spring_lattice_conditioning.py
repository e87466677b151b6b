"""How well W2's gradient checksum is defined in float64: the PyTorch peer's checksum after
changes that only move rounding (one ulp on v0 or k, the two spring-force sums in the other
order, d * (1 / l) for d / l), at T steps, and how close any particle comes to the ground's
contact switch. Two correct implementations can agree no better than these moves.

  /usr/bin/python3 bench/spring_lattice_conditioning.py [T ...]     (default 250 500 1000)
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from spring_lattice_torch import lattice  # noqa: E402

torch.set_default_dtype(torch.float64)
torch.set_num_threads(1)


def rollout(pos0, v0, k, a, b, rest, steps, order="ab", reciprocal=False, log=None,
            dt=1e-3, c=5.0):
    gravity = torch.tensor([0.0, -9.8])
    p, v = pos0, v0
    for _ in range(steps):
        d = p[b] - p[a]
        length = d.norm(dim=1, keepdim=True)
        u = d * (1.0 / length) if reciprocal else d / length
        closing = ((v[b] - v[a]) * u).sum(dim=1, keepdim=True)
        f = (k[:, None] * (length - rest[:, None]) + c * closing) * u
        if order == "ab":
            force = torch.zeros_like(p).index_add(0, a, f).index_add(0, b, -f)
        else:
            force = torch.zeros_like(p).index_add(0, b, -f).index_add(0, a, f)
        pen = torch.relu(-p[:, 1])
        if log is not None:
            log.append(p[:, 1].detach().abs().min().item())
        contact = (pen > 0).to(p.dtype)
        ground = 1e4 * pen - 10.0 * v[:, 1] * contact
        force = force + torch.stack([torch.zeros_like(ground), ground], dim=1)
        v = v + dt * (force + gravity)  # mass 1
        p = p + dt * v
    return ((p - torch.tensor([1.0, 0.1])) ** 2).sum(dim=1).mean()


def gradient(steps, g=16, dv=0.0, dk=0.0, **options):
    pos, a, b, rest = lattice(g)
    k = (torch.full((a.shape[0],), 1000.0) * (1 + dk)).requires_grad_()
    v0 = (torch.tensor([[1.0, 0.0]]).repeat(g * g, 1) * (1 + dv)).requires_grad_()
    loss = rollout(pos, v0, k, a, b, rest, steps, **options)
    loss.backward()
    g_all = torch.cat([k.grad, v0.grad.flatten()])
    return loss.item(), g_all.abs().sum().item(), g_all


def main():
    eps = 2.0 ** -52
    for steps in [int(t) for t in sys.argv[1:]] or [250, 500, 1000]:
        loss, checksum, g = gradient(steps)
        print(f"T = {steps}: loss {loss!r}, checksum {checksum!r}")
        for name, options in [("v0 x (1 + eps)", {"dv": eps}), ("k x (1 + eps)", {"dk": eps}),
                              ("force sums b then a", {"order": "ba"}),
                              ("u = d * (1 / l)", {"reciprocal": True})]:
            l2, c2, g2 = gradient(steps, **options)
            print(f"  {name:20s} loss {abs(l2 - loss) / loss:.1e}, checksum "
                  f"{abs(c2 - checksum) / checksum:.1e}, largest gradient entry "
                  f"{(g2 - g).abs().max().item() / g.abs().max().item():.1e} (relative)")
        log = []
        pos, a, b, rest = lattice(16)
        with torch.no_grad():
            rollout(pos, torch.tensor([[1.0, 0.0]]).repeat(256, 1),
                    torch.full((a.shape[0],), 1000.0), a, b, rest, steps, log=log)
        print(f"  closest any particle comes to the ground (y = 0) at a step: {min(log):.2e} m")


if __name__ == "__main__":
    main()
