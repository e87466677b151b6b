"""maya.torch: maya computations inside PyTorch autograd, checked with torch's gradcheck."""

import numpy as np
import pytest
import torch

import maya
import maya.torch

torch.manual_seed(0)


def test_function_passes_gradcheck_for_several_outputs():
    def record(tape, a, b):
        h = maya.tanh(a @ b)
        return h, maya.sum(h.square()) + maya.exp(a).mean()

    f = maya.torch.function(record)
    a = torch.rand(3, 4, dtype=torch.float64, requires_grad=True)
    b = torch.rand(4, 2, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(f, (a, b))
    h, s = f(a, b)
    assert torch.allclose(h, torch.tanh(a @ b), rtol=1e-14, atol=1e-15)


def test_gradients_flow_from_a_torch_loss_through_maya_into_torch_parameters():
    lattice = maya.make_spring_lattice(maya.LatticeOptions(size=3, spacing=0.1))
    step = maya.torch.mass_spring_step(lattice.model, 1e-3)
    state = torch.from_numpy(np.asarray(
        maya.MassSpringModel.make_state(lattice.positions, lattice.velocities)).copy())
    log_k = torch.nn.Parameter(torch.full((lattice.model.num_springs,), np.log(500.0),
                                          dtype=torch.float64))
    mass = torch.from_numpy(np.asarray(lattice.masses).copy())
    damping = torch.full((lattice.model.num_springs,), 2.0, dtype=torch.float64)
    rest = torch.from_numpy(np.asarray(lattice.rest_length).copy())
    s = state
    for _ in range(5):
        s = step(s, mass, torch.exp(log_k), damping, rest)
    loss = (s[0] ** 2).sum()
    loss.backward()
    assert log_k.grad is not None and torch.all(torch.isfinite(log_k.grad))

    def through_maya(k, s0):
        x = s0
        for _ in range(3):
            x = step(x, mass, k, damping, rest)
        return x

    k = torch.full((lattice.model.num_springs,), 500.0, dtype=torch.float64, requires_grad=True)
    s0 = state.clone().requires_grad_(True)
    assert torch.autograd.gradcheck(through_maya, (k, s0), eps=1e-6, atol=1e-6)


def test_rollout_function_passes_gradcheck():
    lattice = maya.make_spring_lattice(maya.LatticeOptions(size=2, spacing=0.1))
    rollout = maya.torch.mass_spring_rollout(lattice.model, 1e-3, 10)
    state = torch.from_numpy(np.asarray(
        maya.MassSpringModel.make_state(lattice.positions, lattice.velocities)).copy())
    state.requires_grad_(True)
    mass = torch.from_numpy(np.asarray(lattice.masses).copy()).requires_grad_(True)
    k = torch.full((lattice.model.num_springs,), 300.0, dtype=torch.float64, requires_grad=True)
    c = torch.full((lattice.model.num_springs,), 1.0, dtype=torch.float64, requires_grad=True)
    rest = torch.from_numpy(np.asarray(lattice.rest_length).copy()).requires_grad_(True)
    states = rollout(state, mass, k, c, rest)
    assert states.shape == (11, 2, 4, 2)
    assert torch.autograd.gradcheck(rollout, (state, mass, k, c, rest), eps=1e-6, atol=1e-5)


def test_rigid_step_passes_gradcheck():
    world = maya.RigidWorld2D([maya.BodyShape.box(0.2, 0.1), maya.BodyShape.circle(0.05)])
    values = world.parameters_from_masses([1.0, 0.5])
    step = maya.torch.rigid_step(world, 1e-3)
    poses = np.array([[0.0, 0.04, 0.3], [0.3, 0.2, 0.0]])
    state = torch.from_numpy(np.asarray(
        maya.RigidWorld2D.make_state(poses, np.array([[0.5, 0.0, 2.0], [0.0, -1.0, 0.0]])))
        .copy()).requires_grad_(True)
    params = [torch.from_numpy(np.asarray(getattr(values, name)).copy())
              for name in ("mass", "inertia", "vertices", "radius", "applied", "stiffness",
                           "damping", "friction")]
    params[0].requires_grad_(True)

    def run(s, mass):
        for _ in range(5):
            s = step(s, mass, *params[1:])
        return s

    assert torch.autograd.gradcheck(run, (state, params[0]), eps=1e-6, atol=1e-6)


def test_float32_and_non_tensor_inputs_raise():
    f = maya.torch.function(lambda tape, a: maya.sum(a))
    with pytest.raises(maya.DTypeError) as error:
        f(torch.ones(3, dtype=torch.float32, requires_grad=True))
    assert "float64" in str(error.value)
    with pytest.raises(TypeError):
        maya.torch.function(lambda tape, a: 3.0)(torch.ones(2, dtype=torch.float64))


def test_backward_twice_with_retain_graph_and_tape_reuse():
    f = maya.torch.function(lambda tape, a: maya.sum(maya.sin(a) * a))
    a = torch.rand(4, dtype=torch.float64, requires_grad=True)
    loss = f(a)
    loss.backward(retain_graph=True)
    first = a.grad.clone()
    loss.backward()  # the tape went back to the pool: recorded again from the saved inputs
    assert torch.allclose(a.grad, 2 * first, rtol=1e-15)
    expected = torch.sin(a) + a * torch.cos(a)
    assert torch.allclose(first, expected.detach(), rtol=1e-14)
    for _ in range(3):  # later calls reuse the tape
        a.grad = None
        f(a).backward()
        assert torch.allclose(a.grad, first, rtol=1e-15)
