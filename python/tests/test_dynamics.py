"""Integrators and mass-spring systems from Python: closed forms, the fused step against its
composed twin, gradients against central differences, and model lifetimes."""

import gc

import numpy as np
import pytest

import maya
from conftest import central_differences, relative_error


def small_lattice(size=3):
    return maya.make_spring_lattice(maya.LatticeOptions(size=size, spacing=0.1))


def test_semi_implicit_euler_free_fall_matches_closed_form():
    tape = maya.TensorTape()
    p = tape.var(np.array([0.0, 1.0]))
    v = tape.var(np.array([1.0, 0.0]))
    a = tape.constant(np.array([0.0, -9.8]))
    dt, steps = 0.01, 50
    for _ in range(steps):
        p, v = maya.semi_implicit_euler_step(p, v, a, dt)
    t = dt * steps
    # semi-implicit Euler: y_n = y_0 - g dt^2 n (n + 1) / 2
    assert p.numpy()[1] == pytest.approx(1.0 - 9.8 * dt * dt * steps * (steps + 1) / 2, rel=1e-12)
    assert p.numpy()[0] == pytest.approx(t, rel=1e-12)


def test_rk4_with_a_python_force_closure_is_exact_for_a_harmonic_oscillator_period():
    tape = maya.TensorTape()
    p = tape.var(np.array([1.0]))
    v = tape.var(np.array([0.0]))
    omega = 2.0
    steps = 200
    dt = 2 * np.pi / omega / steps
    for _ in range(steps):
        p, v = maya.rk4_step(p, v, lambda x, u: x * (-omega * omega), dt)
    assert p.numpy()[0] == pytest.approx(1.0, abs=1e-6)


def spring_params(tape, lattice, make=None):
    make = make or tape.var
    return maya.SpringParameters(
        make(lattice.masses),
        make(np.full(lattice.model.num_springs, 500.0)),
        make(np.full(lattice.model.num_springs, 2.0)),
        make(lattice.rest_length))


def test_fused_step_equals_composed_step():
    lattice = small_lattice()
    tape = maya.TensorTape()
    state = tape.var(maya.MassSpringModel.make_state(lattice.positions, lattice.velocities))
    params = spring_params(tape, lattice)
    fused = composed = state
    for _ in range(20):
        fused = lattice.model.step(fused, params, 1e-3)
        composed = lattice.model.step_composed(composed, params, 1e-3)
    assert np.allclose(fused.numpy(), composed.numpy(), rtol=1e-12, atol=1e-14)
    gf = tape.grad(maya.sum(fused * fused))
    gc_ = tape.grad(maya.sum(composed * composed))
    assert relative_error(gf[params.stiffness], gc_[params.stiffness]) < 1e-9


def test_ground_friction_slows_a_sliding_block_at_mu_g():
    ground = maya.GroundContact(stiffness=1e4, damping=20.0, friction=0.5, slip_velocity=1e-2)
    assert ground.friction == 0.5 and ground.slip_velocity == 1e-2
    model = maya.MassSpringModel(2, 2, [0], [1], [0.0, -9.8], ground)
    sink = 9.8 / 1e4  # resting on the penalty ground under its own weight
    positions = np.array([[0.0, -sink], [0.2, -sink]])
    velocities = np.array([[2.0, 0.0], [2.0, 0.0]])
    tape = maya.TensorTape()
    state = tape.constant(maya.MassSpringModel.make_state(positions, velocities))
    params = maya.SpringParameters(tape.constant(np.ones(2)), tape.constant(np.array([1000.0])),
                                   tape.constant(np.array([5.0])), tape.constant(np.array([0.2])))
    for _ in range(200):
        state = model.step(state, params, 1e-3)
    # v(t) = v0 - mu g t while sliding
    assert state.numpy()[1, 0, 0] == pytest.approx(2.0 - 0.5 * 9.8 * 0.2, abs=4e-4)


def test_rollout_gradient_matches_central_differences():
    lattice = small_lattice()
    state0 = np.asarray(maya.MassSpringModel.make_state(lattice.positions, lattice.velocities))
    stiffness = np.full(lattice.model.num_springs, 500.0)

    def loss(k, record=False):
        tape = maya.TensorTape()
        kv = tape.var(k)
        params = maya.SpringParameters(tape.constant(lattice.masses), kv,
                                       tape.constant(np.full(k.size, 2.0)),
                                       tape.constant(lattice.rest_length))
        states = lattice.model.rollout(tape.constant(state0), params, 1e-3, 30)
        value = maya.sum(maya.positions_of(states[-1]).square())
        return (value.item(), tape.grad(value)[kv]) if record else value.item()

    _, analytic = loss(stiffness, record=True)
    numeric = central_differences(loss, stiffness, h=1e-3)
    assert relative_error(analytic, numeric) < 1e-6


def test_model_lives_as_long_as_the_tape_needs_it():
    tape = maya.TensorTape()
    lattice = small_lattice()
    state = tape.var(maya.MassSpringModel.make_state(lattice.positions, lattice.velocities))
    params = spring_params(tape, lattice, tape.constant)
    model = maya.MassSpringModel(lattice.model.num_particles, 2, lattice.model.end_a,
                                 lattice.model.end_b, [0.0, -9.8])
    out = model.step(state, params, 1e-3)
    del model, lattice
    gc.collect()
    g = tape.grad(maya.sum(out))  # the fused node's adjoint reads its model
    assert np.all(np.isfinite(g[state]))


def test_bad_model_arguments_raise_value_error_with_maya_message():
    with pytest.raises(maya.ValueError) as error:
        maya.MassSpringModel(2, 2, [0], [5], [0.0, -9.8])
    assert isinstance(error.value, ValueError)
    with pytest.raises(maya.DTypeError):
        maya.MassSpringModel(2, 2, [0.5], [1.0], [0.0, -9.8])
    lattice = small_lattice()
    tape = maya.TensorTape()
    params = spring_params(tape, lattice)
    with pytest.raises(maya.ShapeError):
        lattice.model.step(tape.var(np.zeros((2, 5, 2))), params, 1e-3)
