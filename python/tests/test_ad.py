"""The scalar tape from Python: operators, functions, gradients, and misuse."""

import math

import numpy as np
import pytest

import maya


def test_seed_example_derivative_matches_closed_form():
    t = maya.Tape()
    x = t.var(1.3)
    y = (x * x).sin().exp()
    g = t.grad(y)
    expected = math.exp(math.sin(1.69)) * math.cos(1.69) * 2 * 1.3
    assert g[x] == pytest.approx(expected, rel=1e-14)
    assert y.value == pytest.approx(math.exp(math.sin(1.69)), rel=1e-15)


def test_operators_with_numbers_on_either_side():
    t = maya.Tape()
    x = t.var(2.0)
    y = t.var(3.0)
    z = 1.0 + x * y - 4 / x + (x ** 3) / 2 + 2 ** y - x - -y
    g = t.grad(z)
    assert z.value == pytest.approx(1 + 6 - 2 + 4 + 8 - 2 + 3)
    assert g[x] == pytest.approx(3 + 4 / 4 + 3 * 4 / 2 - 1)
    assert g[y] == pytest.approx(2 + math.log(2) * 8 + 1)


def test_free_functions_match_numpy_and_their_derivatives():
    functions = {
        "sin": (np.sin, np.cos), "cos": (np.cos, lambda v: -np.sin(v)),
        "exp": (np.exp, np.exp), "log": (np.log, lambda v: 1 / v),
        "sqrt": (np.sqrt, lambda v: 0.5 / np.sqrt(v)), "tanh": (np.tanh, lambda v: 1 - np.tanh(v) ** 2),
        "square": (np.square, lambda v: 2 * v),
    }
    for name, (f, df) in functions.items():
        t = maya.Tape()
        x = t.var(0.7)
        y = getattr(maya, name)(x)
        assert y.value == pytest.approx(f(0.7), rel=1e-14), name
        assert t.grad(y)[x] == pytest.approx(df(0.7), rel=1e-12), name


def test_var_of_another_tape_raises_tape_error():
    a, b = maya.Tape(), maya.Tape()
    x, y = a.var(1.0), b.var(2.0)
    with pytest.raises(maya.TapeError):
        x + y
    with pytest.raises(maya.Error):
        a.grad(y)


def test_var_of_a_cleared_or_deleted_tape_raises_instead_of_crashing():
    t = maya.Tape()
    x = t.var(1.0)
    t.clear()
    with pytest.raises(maya.TapeError):
        x.sin()
    t2 = maya.Tape()
    y = t2.var(1.0)
    del t2
    with pytest.raises(maya.TapeError):
        y * 2.0
    with pytest.raises(maya.TapeError):
        y.value


def test_finite_check_raises_non_finite_error():
    t = maya.Tape()
    t.finite_check = True
    x = t.var(-1.0)
    with pytest.raises(maya.NonFiniteError) as error:
        x.log()
    assert isinstance(error.value, ArithmeticError)
    assert "log" in str(error.value)


def test_replay_recomputes_with_new_input_values():
    t = maya.Tape()
    x = t.var(2.0)
    y = x * x + 1.0
    t.set_value(x, 3.0)
    t.replay()
    assert t.value(y) == 10.0
    assert t.grad(y)[x] == 6.0


def test_submodules_import_and_star_import_keeps_builtins():
    import maya.fem
    from maya.optim import Adam

    assert maya.fem.SoftBody is maya.fem.SoftBody and Adam is maya.optim.Adam
    namespace = {}
    exec("from maya import *", namespace)
    assert "Tape" in namespace and "sum" not in namespace and "ValueError" not in namespace
    assert issubclass(maya.ValueError, ValueError) and maya.ValueError is not ValueError
