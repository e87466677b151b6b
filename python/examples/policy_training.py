"""A policy (a torch.nn.Module) trained with a torch optimizer through a maya rollout: workload W3
of the benchmark specification.

B point masses with state s = (x, y, vx, vy) follow a = tanh(tanh(s W1 + b1) W2 + b2) for T steps
of v = v + 0.01 (5 a - 0.5 v), x = x + 0.01 v; loss = mean_b |x_T|^2 + 1e-3 (1/T) sum_t mean_b
|a_t|^2. The module holds W1, b1, W2, b2 as torch Parameters and evaluates itself in PyTorch
(forward) or records the same network on a maya tape (record); training runs the rollout in maya
(one fused node per layer) inside maya.torch.function, so torch.optim.Adam receives maya's
gradients. Exits non-zero unless the gradient equals PyTorch's own and training lowers the loss.
"""

import sys

import numpy as np
import torch

import maya
import maya.torch

STEPS = 200


def splitmix_uniform(shape, low, high, seed):
    """Uniform values from splitmix64, bit for bit those of bench/bench_policy_rollout.cpp."""
    mask = (1 << 64) - 1
    state = seed
    values = np.empty(int(np.prod(shape)))
    for i in range(values.size):
        state = (state + 0x9E3779B97F4A7C15) & mask
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
        z ^= z >> 31
        values[i] = low + (high - low) * float(z >> 11) * 2.0 ** -53
    return values.reshape(shape)


class Policy(torch.nn.Module):
    """a = tanh(tanh(s W1 + b1) W2 + b2): W1 [4, H], b1 [H], W2 [H, 2], b2 [2]."""

    def __init__(self, hidden=64):
        super().__init__()
        self.w1 = torch.nn.Parameter(torch.from_numpy(splitmix_uniform((4, hidden), -0.5, 0.5, 2)))
        self.b1 = torch.nn.Parameter(torch.zeros(hidden, dtype=torch.float64))
        self.w2 = torch.nn.Parameter(torch.from_numpy(splitmix_uniform((hidden, 2), -0.5, 0.5, 3)))
        self.b2 = torch.nn.Parameter(torch.zeros(2, dtype=torch.float64))

    def forward(self, state):
        return torch.tanh(torch.tanh(state @ self.w1 + self.b1) @ self.w2 + self.b2)

    @staticmethod
    def record(state, w1, b1, w2, b2):
        """The same network on a maya tape, one fused node per layer."""
        hidden = maya.dense(state, w1, b1, maya.Activation.tanh)
        return maya.dense(hidden, w2, b2, maya.Activation.tanh)


def record_w3_loss(initial_state, steps=STEPS):
    """loss(tape, w1, b1, w2, b2): W3's rollout from initial_state [B, 4], recorded in maya."""
    def record(tape, w1, b1, w2, b2):
        s = tape.constant(initial_state)
        x = maya.slice(s, 1, 0, 2)
        v = maya.slice(s, 1, 2, 4)
        effort = tape.constant(0.0)
        for _ in range(steps):
            action = Policy.record(maya.concat([x, v], 1), w1, b1, w2, b2)
            effort = effort + maya.mean(maya.sum(action * action, 1))
            v = v + 0.01 * (5.0 * action - 0.5 * v)
            x = x + 0.01 * v
        return maya.mean(maya.sum(x * x, 1)) + effort * (1e-3 / steps)

    return record


def torch_w3_loss(policy, initial_state, steps=STEPS):
    """The same loss in PyTorch alone: the reference the bridge's gradient must equal."""
    s = torch.from_numpy(initial_state)
    x, v = s[:, 0:2], s[:, 2:4]
    effort = torch.zeros((), dtype=torch.float64)
    for _ in range(steps):
        action = policy(torch.cat([x, v], 1))
        effort = effort + (action * action).sum(1).mean()
        v = v + 0.01 * (5.0 * action - 0.5 * v)
        x = x + 0.01 * v
    return (x * x).sum(1).mean() + effort * (1e-3 / steps)


def main(batch=256, iterations=30):
    initial_state = splitmix_uniform((batch, 4), -1.0, 1.0, 1)
    policy = Policy()
    rollout_loss = maya.torch.function(record_w3_loss(initial_state))

    def loss_through_maya():
        return rollout_loss(policy.w1, policy.b1, policy.w2, policy.b2)

    # The bridge's gradient equals PyTorch's own for the same loss.
    loss = loss_through_maya()
    loss.backward()
    first = float(loss)
    maya_grads = [p.grad.clone() for p in policy.parameters()]
    policy.zero_grad()
    reference = torch_w3_loss(policy, initial_state)
    reference.backward()
    worst = max(float((m - p.grad).abs().max() / p.grad.abs().max().clamp(min=1e-300))
                for m, p in zip(maya_grads, policy.parameters()))
    print(f"W3 B={batch}: loss {first:.12f} (PyTorch {float(reference):.12f}), "
          f"gradient relative difference {worst:.2e}")
    if abs(first - float(reference)) > 1e-12 * abs(float(reference)):
        return 1
    policy.zero_grad()

    optimizer = torch.optim.Adam(policy.parameters(), lr=0.02)
    for iteration in range(iterations):
        optimizer.zero_grad()
        loss = loss_through_maya()
        loss.backward()
        optimizer.step()
        if iteration % 10 == 0 or iteration == iterations - 1:
            print(f"iteration {iteration:3d}  loss {float(loss):.6f}")
    final = float(loss_through_maya())
    print(f"loss {first:.6f} -> {final:.6f}")
    ok = worst < 1e-10 and final < 0.5 * first
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
