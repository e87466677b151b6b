"""The 2-D rigid world, hard contact and FEM from Python: physics and gradients."""

import gc

import numpy as np
import pytest

import maya
from conftest import central_differences, relative_error


def box_world():
    world = maya.RigidWorld2D([maya.BodyShape.box(0.2, 0.1)])
    values = world.parameters_from_masses([1.0])
    poses = np.array([[0.0, 0.3, 0.3]])
    velocities = np.array([[0.5, 0.0, 2.0]])
    return world, values, np.asarray(maya.RigidWorld2D.make_state(poses, velocities))


def test_rigid_body_in_free_flight_follows_the_parabola():
    world, values, state0 = box_world()
    tape = maya.TensorTape()
    params = values.constants(tape)
    state = tape.var(state0)
    for _ in range(10):
        state = world.step(state, params, 1e-3)
    s = state.numpy()
    assert s[1, 0, 1] == pytest.approx(-9.8 * 1e-2, rel=1e-12)
    assert s[0, 0, 2] == pytest.approx(0.3 + 2.0 * 1e-2, rel=1e-12)


def test_rigid_fused_step_equals_composed_and_gradient_matches_differences():
    world, values, state0 = box_world()
    state0[0, 0, 1] = 0.04  # corners in contact with the ground

    def loss(initial, record=False):
        tape = maya.TensorTape()
        params = values.constants(tape)
        s = leaf = tape.var(initial)
        for _ in range(20):
            s = world.step(s, params, 1e-3)
        value = maya.sum(s * s)
        return (value.item(), tape.grad(value)[leaf]) if record else value.item()

    _, analytic = loss(state0, record=True)
    numeric = central_differences(loss, state0)
    assert relative_error(analytic, numeric) < 1e-6

    tape = maya.TensorTape()
    params = values.constants(tape)
    fused = composed = tape.var(state0)
    for _ in range(20):
        fused = world.step(fused, params, 1e-3)
        composed = world.step_composed(composed, params, 1e-3)
    assert np.allclose(fused.numpy(), composed.numpy(), rtol=1e-10, atol=1e-12)


def test_hard_contact_box_comes_to_rest_on_the_ground():
    bodies = maya.RigidWorld2D([maya.BodyShape.box(0.2, 0.1)])
    world = maya.contact.HardContactWorld2D(bodies)
    state0 = np.asarray(maya.RigidWorld2D.make_state(np.array([[0.0, 0.1, 0.0]]),
                                                     np.zeros((1, 3))))
    values = world.parameters([1.0], state0)
    tape = maya.TensorTape()
    params = values.vars(tape)
    state = tape.var(state0)
    for _ in range(100):
        state = world.step(state, params, 1e-2)
    s = state.numpy()
    assert s[0, 0, 1] == pytest.approx(0.05, abs=2e-3)  # resting on its half height
    assert abs(s[1, 0, 1]) < 1e-3
    g = tape.grad(maya.sum(maya.select(maya.select(state, 0, 0), 1, 0)))
    assert np.all(np.isfinite(g[params.mass]))


def test_fem_explicit_step_gradient_in_youngs_modulus_matches_differences():
    mesh = maya.fem.rectangle_mesh(maya.fem.RectangleSpec(width=1.0, height=0.2, cells_x=3,
                                                          cells_y=1))
    body = maya.fem.SoftBody(mesh, maya.fem.SoftBodyOptions(pinned=[0, 4]))

    def loss(youngs, record=False):
        tape = maya.TensorTape()
        e = tape.var(youngs)
        params = body.parameters(tape.constant(mesh.rest_positions), e,
                                 tape.constant(np.array([0.3])), tape.constant(np.array([1000.0])))
        state = tape.constant(body.rest_state())
        for _ in range(20):
            state = body.step_explicit(state, params, 1e-4)
        value = maya.sum(maya.select(state, 0, 0).square())
        return (value.item(), tape.grad(value)[e]) if record else value.item()

    youngs = np.array([1e4])
    _, analytic = loss(youngs, record=True)
    numeric = central_differences(loss, youngs, h=1.0)
    assert relative_error(analytic, numeric) < 1e-6


def test_fem_body_lives_as_long_as_the_tape_needs_it():
    mesh = maya.fem.rectangle_mesh(maya.fem.RectangleSpec(width=1.0, height=0.2, cells_x=3,
                                                          cells_y=1))

    def gradient(drop_body):
        body = maya.fem.SoftBody(mesh, maya.fem.SoftBodyOptions(pinned=[0, 4]))
        tape = maya.TensorTape()
        e = tape.var(np.array([1e4]))
        params = body.parameters(tape.constant(mesh.rest_positions), e,
                                 tape.constant(np.array([0.3])), tape.constant(np.array([1000.0])))
        state = tape.constant(body.rest_state())
        state = body.step_explicit(state, params, 1e-4)
        state = body.step_implicit(state, params, 1e-3)
        loss = maya.sum(maya.select(state, 0, 0).square())
        if drop_body:
            del body
            gc.collect()
        return np.array(tape.grad(loss)[e])

    kept = gradient(False)
    assert np.all(kept != 0.0)
    np.testing.assert_array_equal(gradient(True), kept)


def test_fem_implicit_step_sags_under_gravity():
    mesh = maya.fem.rectangle_mesh(maya.fem.RectangleSpec(width=1.0, height=0.1, cells_x=4,
                                                          cells_y=1))
    body = maya.fem.SoftBody(mesh, maya.fem.SoftBodyOptions(pinned=[0, 5]))
    tape = maya.TensorTape()
    params = body.parameters(tape.constant(mesh.rest_positions), tape.var(np.array([1e5])),
                             tape.constant(np.array([0.3])), tape.constant(np.array([100.0])))
    state = tape.constant(body.rest_state())
    for _ in range(5):
        state = body.step_implicit(state, params, 1e-2)
    tip = state.numpy()[0, 4, 1]
    assert tip < 0.0
    with pytest.raises(maya.ValueError):
        maya.fem.SoftBodyOptions(pinned=[99]) and maya.fem.SoftBody(
            mesh, maya.fem.SoftBodyOptions(pinned=[99]))
