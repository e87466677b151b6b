"""Misuse from Python is an exception with maya's message, never a crash of the interpreter."""

import numpy as np
import pytest
import torch

import maya
import maya.torch


def lattice_and_params(tape):
    lattice = maya.make_spring_lattice(maya.LatticeOptions(size=2, spacing=0.1))
    e = lattice.model.num_springs
    params = maya.SpringParameters(tape.var(lattice.masses), tape.var(np.full(e, 100.0)),
                                   tape.var(np.full(e, 1.0)), tape.var(lattice.rest_length))
    state = tape.var(maya.MassSpringModel.make_state(lattice.positions, lattice.velocities))
    return lattice, params, state


def test_step_with_parameters_of_another_tape_raises_tape_error():
    t1, t2 = maya.TensorTape(), maya.TensorTape()
    lattice, params, _ = lattice_and_params(t1)
    _, _, state = lattice_and_params(t2)
    with pytest.raises(maya.TapeError):
        lattice.model.step(state, params, 1e-3)


def test_step_after_the_tape_is_gone_raises_tape_error():
    tape = maya.TensorTape()
    lattice, params, state = lattice_and_params(tape)
    del tape
    with pytest.raises(maya.TapeError):
        lattice.model.step(state, params, 1e-3)


def test_bad_values_raise_value_error_naming_the_problem():
    tape = maya.TensorTape()
    lattice, params, state = lattice_and_params(tape)
    with pytest.raises(maya.ValueError) as error:
        lattice.model.step(state, params, -1.0)
    assert "dt" in str(error.value)
    with pytest.raises(maya.ValueError):
        maya.BodyShape.circle(-1.0)
    with pytest.raises(maya.ValueError):
        maya.BodyShape.polygon([(0, 0), (1, 0), (0.5, 0.1), (1, 1), (0, 1)])


def test_out_of_range_indexing_and_axes_raise_shape_error():
    tape = maya.TensorTape()
    x = tape.var(np.ones((2, 3)))
    with pytest.raises(maya.ShapeError):
        x[5]
    with pytest.raises(maya.ShapeError):
        maya.sum(x, 4)
    with pytest.raises(maya.ShapeError):
        maya.index_select(x, 0, [0, 7])
    with pytest.raises(maya.ShapeError):
        maya.Tensor.zeros([2]).at([3])
    with pytest.raises(IndexError):
        x[..., 0]


def test_wrong_argument_types_raise_type_error():
    tape = maya.TensorTape()
    x = tape.var(np.ones(2))
    with pytest.raises(TypeError):
        maya.matmul(x, "not a tensor")
    with pytest.raises(TypeError):
        tape.grad(3.0)
    with pytest.raises(maya.DTypeError):
        maya.index_select(x, 0, np.array([0.5]))
    with pytest.raises(ValueError):
        tape.var([[1.0, 2.0], [3.0]])


def test_an_exception_in_a_recorded_function_leaves_torch_usable():
    def broken(tape, a):
        return maya.matmul(a, a)  # [3] x [3] is a dot product; [2, 3] x [2, 3] is not

    f = maya.torch.function(broken)
    with pytest.raises(maya.ShapeError):
        f(torch.ones(2, 3, dtype=torch.float64, requires_grad=True))
    g = maya.torch.function(lambda tape, a: maya.sum(a * a))
    a = torch.ones(3, dtype=torch.float64, requires_grad=True)
    g(a).backward()
    assert torch.equal(a.grad, torch.full((3,), 2.0, dtype=torch.float64))


def test_non_contiguous_torch_inputs_are_read_correctly():
    base = torch.arange(12.0, dtype=torch.float64).reshape(3, 4)
    f = maya.torch.function(lambda tape, a: a * 1.0)
    assert torch.equal(f(base.t()), base.t())
    assert torch.equal(f(base[:, ::2]), base[:, ::2])


def test_messages_are_maya_messages_verbatim():
    world = maya.RigidWorld2D([maya.BodyShape.box(0.2, 0.1)])
    tape = maya.TensorTape()
    params = world.parameters_from_masses([1.0]).constants(tape)
    with pytest.raises(maya.ShapeError) as error:
        world.step(tape.var(np.zeros((2, 2, 3))), params, 1e-3)
    assert str(error.value) == "rigid_step: state has shape [2, 2, 3], expected [2, 1, 3]"


def test_values_seen_inside_gradcheck_stay_readable_afterwards():
    seen = []

    def loss(tape, a):
        seen.append(a.numpy())  # gradcheck's own tape is gone after the call: this is a copy
        return maya.sum(a * a)

    maya.gradcheck(loss, [np.array([1.0, 2.0])])
    assert np.array_equal(seen[0], [1.0, 2.0])
