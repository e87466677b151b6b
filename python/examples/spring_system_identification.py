"""System identification from Python: recover the stiffness and damping of a spring lattice from
its observed trajectory, with PyTorch's L-BFGS driving a maya rollout through maya.torch.

The observation is simulated with hidden true values. The fitted parameters are PyTorch tensors
(log-scale, so both stay positive and the fit is scale-free); every loss evaluation runs the
rollout in maya and its gradient comes back through maya's fused adjoint. Exits non-zero unless
both are recovered to 1e-6 relative.
"""

import sys

import numpy as np
import torch

import maya
import maya.torch

TRUE_STIFFNESS = 850.0
TRUE_DAMPING = 3.5
STEPS = 300
OBSERVE_EVERY = 10
DT = 1e-3


def main():
    lattice = maya.make_spring_lattice(maya.LatticeOptions(size=5, spacing=0.05, origin_y=0.1,
                                                           velocity_y=-1.0))
    model = lattice.model
    rollout = maya.torch.mass_spring_rollout(model, DT, STEPS)
    state = torch.from_numpy(np.array(maya.MassSpringModel.make_state(lattice.positions,
                                                                      lattice.velocities)))
    mass = torch.from_numpy(np.array(lattice.masses))
    rest = torch.from_numpy(np.array(lattice.rest_length))
    ones = torch.ones(model.num_springs, dtype=torch.float64)

    def observed_positions(stiffness, damping):
        states = rollout(state, mass, stiffness * ones, damping * ones, rest)
        return states[OBSERVE_EVERY::OBSERVE_EVERY, 0]  # [frames, N, 2]

    with torch.no_grad():
        observed = observed_positions(torch.tensor(TRUE_STIFFNESS, dtype=torch.float64),
                                      torch.tensor(TRUE_DAMPING, dtype=torch.float64))

    log_k = torch.tensor(np.log(400.0), dtype=torch.float64, requires_grad=True)
    log_c = torch.tensor(np.log(1.0), dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.LBFGS([log_k, log_c], lr=1.0, max_iter=200, tolerance_grad=1e-15,
                                  tolerance_change=1e-20, history_size=10,
                                  line_search_fn="strong_wolfe")
    evaluations = 0

    def closure():
        nonlocal evaluations
        optimizer.zero_grad()
        loss = ((observed_positions(torch.exp(log_k), torch.exp(log_c)) - observed) ** 2).mean()
        loss.backward()
        evaluations += 1
        return loss

    optimizer.step(closure)
    with torch.no_grad():
        loss = ((observed_positions(torch.exp(log_k), torch.exp(log_c)) - observed) ** 2).mean()
    stiffness = float(torch.exp(log_k))
    damping = float(torch.exp(log_c))
    stiffness_error = abs(stiffness - TRUE_STIFFNESS) / TRUE_STIFFNESS
    damping_error = abs(damping - TRUE_DAMPING) / TRUE_DAMPING
    print(f"loss {float(loss):.3e} after {evaluations} evaluations")
    print(f"stiffness: fitted {stiffness:.9f}, true {TRUE_STIFFNESS}, "
          f"relative error {stiffness_error:.2e}")
    print(f"damping:   fitted {damping:.9f}, true {TRUE_DAMPING}, "
          f"relative error {damping_error:.2e}")
    return 0 if stiffness_error < 1e-6 and damping_error < 1e-6 else 1


if __name__ == "__main__":
    sys.exit(main())
