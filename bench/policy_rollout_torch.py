"""Workload W3 (tanh policy controlling B point masses, T = 200) in PyTorch eager: the peer of
bench_policy_rollout (CPU) and bench_gpu (--device cuda). Inputs from splitmix64, bit-identical
to maya's. One JSON line per B."""
import argparse
import json

import torch

from peer_common import measure, splitmix_values

torch.set_default_dtype(torch.float64)


def splitmix_uniform(shape, low, high, seed):
    return torch.tensor(splitmix_values(shape, low, high, seed)).reshape(shape)


def loss_of(s0, w1, b1, w2, b2, steps=200):
    x, v = s0[:, :2], s0[:, 2:]
    effort = torch.zeros((), device=s0.device)
    for _ in range(steps):
        state = torch.cat([x, v], dim=1)
        # addmm is what torch.nn.Linear runs: the product and the bias in one kernel.
        action = torch.tanh(torch.addmm(b2, torch.tanh(torch.addmm(b1, state, w1)), w2))
        effort = effort + (action * action).sum(dim=1).mean()
        v = v + 0.01 * (5.0 * action - 0.5 * v)
        x = x + 0.01 * v
    return (x * x).sum(dim=1).mean() + effort * (1e-3 / steps)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--batches", default="256,4096")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    for batch in (int(b) for b in args.batches.split(",")):
        s0 = splitmix_uniform((batch, 4), -1.0, 1.0, 1).to(device)
        w1_0 = splitmix_uniform((4, 64), -0.5, 0.5, 2).to(device)
        w2_0 = splitmix_uniform((64, 2), -0.5, 0.5, 3).to(device)

        def forward():
            with torch.no_grad():
                return loss_of(s0, w1_0, torch.zeros(64, device=device), w2_0,
                               torch.zeros(2, device=device)).item(), 0.0

        def gradient():
            params = [w1_0.clone().requires_grad_(),
                      torch.zeros(64, device=device, requires_grad=True),
                      w2_0.clone().requires_grad_(),
                      torch.zeros(2, device=device, requires_grad=True)]
            loss = loss_of(s0, *params)
            loss.backward()
            return loss.item(), sum(p.grad.abs().sum().item() for p in params)

        results = {name: measure(fn, args.repeats)
                   for name, fn in (("forward", forward), ("gradient", gradient))}
        print(json.dumps({"framework": "pytorch", "version": torch.__version__, "B": batch,
                          "device": args.device, "threads": args.threads, "forward_s": results["forward"][0],
                          "gradient_s": results["gradient"][0], "loss": results["gradient"][1][0],
                          "checksum": results["gradient"][1][1]}))


if __name__ == "__main__":
    main()
