"""Tensors, NumPy without copies, the tensor tape, every op's gradient and bad input."""

import numpy as np
import pytest

import maya
from conftest import central_differences, relative_error

RNG = np.random.default_rng(7)


def test_tensor_and_numpy_share_memory_both_ways():
    t = maya.Tensor(np.arange(6.0).reshape(2, 3))
    view = np.asarray(t)
    assert view.shape == (2, 3)
    view[1, 2] = 42.0
    assert t.at([1, 2]) == 42.0
    also = t.numpy()
    assert np.shares_memory(view, also)
    assert t.shape == (2, 3) and t.numel == 6


def test_tensor_from_lists_and_factories():
    assert maya.Tensor([[1, 2], [3, 4]]).shape == (2, 2)
    assert np.allclose(np.asarray(maya.Tensor.linspace(0, 1, 5)), np.linspace(0, 1, 5))
    assert maya.Tensor.scalar(2.5).item() == 2.5
    assert np.asarray(maya.Tensor.zeros([3])).sum() == 0.0


def test_wrong_dtype_raises_dtype_error_with_maya_message():
    tape = maya.TensorTape()
    for bad in (np.ones(3, dtype=np.float32), np.arange(3)):
        with pytest.raises(maya.DTypeError) as error:
            tape.var(bad)
        assert isinstance(error.value, TypeError)
        assert "float64" in str(error.value)
    with pytest.raises(maya.DTypeError):
        maya.Tensor(np.ones(2, dtype=np.float32))


def test_non_contiguous_arrays_are_copied_and_read_correctly():
    tape = maya.TensorTape()
    base = np.arange(12.0).reshape(3, 4)
    x = tape.var(base.T)  # Fortran order: copied once
    assert np.array_equal(x.numpy(), base.T)
    y = tape.var(base[:, ::2])
    assert np.array_equal(y.numpy(), base[:, ::2])


def test_values_are_read_only_views_of_the_tape():
    tape = maya.TensorTape()
    x = tape.var(np.ones((2, 2)))
    y = x * 3.0
    view = y.numpy()
    assert not view.flags.writeable
    with pytest.raises(ValueError):
        view[0, 0] = 1.0
    assert np.all(view == 3.0)
    del tape  # the view keeps the tape alive
    assert np.all(view == 3.0)


def test_shape_error_is_a_value_error_with_the_op_and_shapes():
    tape = maya.TensorTape()
    a = tape.var(np.ones((2, 3)))
    b = tape.var(np.ones((4, 5)))
    with pytest.raises(maya.ShapeError) as error:
        maya.matmul(a, b)
    assert isinstance(error.value, ValueError)
    message = str(error.value)
    assert "matmul" in message and "[2, 3]" in message and "[4, 5]" in message
    with pytest.raises(ValueError):
        a + b


def test_var_from_another_tape_or_a_cleared_tape_raises():
    t1, t2 = maya.TensorTape(), maya.TensorTape()
    a = t1.var(np.ones(3))
    b = t2.var(np.ones(3))
    with pytest.raises(maya.TapeError):
        a + b
    t1.clear()
    with pytest.raises(maya.TapeError):
        a.sin()
    with pytest.raises(maya.TapeError):
        a.numpy()
    with pytest.raises(maya.TapeError):
        maya.TensorVar().sum()
    t3 = maya.TensorTape()
    c = t3.var(np.ones(2))
    del t3
    with pytest.raises(maya.TapeError):
        c * c


def test_loss_with_more_than_one_element_raises_shape_error():
    tape = maya.TensorTape()
    x = tape.var(np.ones(3))
    with pytest.raises(maya.ShapeError):
        tape.grad(x * 2.0)


def composite(tape, x, w, b):
    h = maya.tanh(x @ w + b)
    h = maya.sigmoid(h) * maya.softplus(h) - maya.relu(h - 0.1) + h.square() / 3.0
    h = maya.concat([h, maya.exp(-h.abs())], 1)
    h = maya.stack([h, h * 2.0], 0).sum(0)
    h = maya.transpose(h).reshape([h.numel])
    h = h[1:7:2] * maya.sqrt(h[0:3] ** 2 + 1.0) + maya.sin(h[2:5]) * maya.cos(h[3:6])
    m = maya.maximum(h, 0.2) + maya.minimum(h, h.mean()) + maya.clamp(h, -0.5, 0.5)
    m = m + maya.log(m * m + 1.0) + maya.index_select(m, 0, [2, 0, 0])
    m = maya.index_add(m, 0, [1, 1], maya.slice(m, 0, 0, 2))
    return maya.dot(m, m) + maya.norm(m.reshape([1, 3]), 1).sum() + maya.max(m.reshape([3, 1]), 0).sum()


def test_composite_of_many_ops_matches_central_differences():
    x = RNG.uniform(-1, 1, (2, 3))
    w = RNG.uniform(-1, 1, (3, 4))
    b = RNG.uniform(-1, 1, (4,))
    tape = maya.TensorTape()
    leaves = [tape.var(v) for v in (x, w, b)]
    loss = composite(tape, *leaves)
    g = tape.grad(loss)

    def value(i):
        def f(v):
            args = [x, w, b]
            args[i] = v
            t = maya.TensorTape()
            return composite(t, *[t.constant(a) for a in args]).item()
        return f

    for i, arg in enumerate((x, w, b)):
        numeric = central_differences(value(i), arg)
        assert relative_error(g[leaves[i]], numeric) < 1e-7


def test_gradients_are_ndarrays_without_copies():
    tape = maya.TensorTape()
    x = tape.var(np.array([1.0, 2.0, 3.0]))
    g = tape.grad(maya.sum(x * x))
    first = g[x]
    assert np.array_equal(first, [2.0, 4.0, 6.0])
    assert np.shares_memory(first, g[x])


def test_numpy_operands_become_constants_of_the_tape():
    tape = maya.TensorTape()
    x = tape.var(np.array([1.0, 2.0]))
    y = np.array([3.0, 4.0]) * x + x * np.array([1.0, 1.0]) - [1.0, 1.0]
    assert isinstance(y, maya.TensorVar)
    assert np.array_equal(y.numpy(), [3.0, 9.0])
    assert np.array_equal(tape.grad(y.sum())[x], [4.0, 5.0])


def test_dense_equals_its_composed_form():
    tape = maya.TensorTape()
    x = tape.var(RNG.uniform(-1, 1, (5, 4)))
    w = tape.var(RNG.uniform(-1, 1, (4, 3)))
    b = tape.var(RNG.uniform(-1, 1, (3,)))
    fused = maya.dense(x, w, b, maya.Activation.tanh)
    composed = maya.tanh(x @ w + b)
    assert np.allclose(fused.numpy(), composed.numpy(), rtol=1e-14, atol=1e-15)


def test_gather_scatter_and_where():
    tape = maya.TensorTape()
    x = tape.var(np.arange(6.0).reshape(3, 2))
    index = maya.IndexTensor(np.array([[2, 0], [1, 1]]))
    gathered = maya.gather(x, 0, index)
    assert np.array_equal(gathered.numpy(), [[4.0, 1.0], [2.0, 3.0]])
    scattered = maya.scatter_add(x, 0, index, gathered)
    mask = tape.constant(np.array([1.0, 0.0]))
    chosen = maya.where(mask, x, -x)
    g = tape.grad(scattered.sum() + chosen.sum())
    assert g[x].shape == (3, 2)


def test_maya_gradcheck_from_python():
    report = maya.gradcheck(lambda tape, a, b: maya.sum(maya.tanh(a @ b)),
                            [RNG.uniform(-1, 1, (2, 3)), RNG.uniform(-1, 1, (3, 2))])
    assert report.max_error() < 1e-8


class Cube(maya.TensorOp):
    """y = x^3 with a hand-written backward: dx += 3 x^2 dy."""

    def __init__(self):
        super().__init__("cube")

    def backward(self, context):
        x = context.input(0)
        context.accumulate_grad(0, 3.0 * x * x * context.grad_output())

    def __call__(self, tape, x):
        return tape.record(self, [x], x.numpy() ** 3)


def test_custom_op_in_python_matches_its_composed_twin():
    tape = maya.TensorTape()
    x = tape.var(RNG.uniform(-1, 1, (3, 2)))
    cube = Cube()
    y = cube(tape, x)
    del cube  # the tape holds the op
    twin = x * x * x
    assert np.allclose(y.numpy(), twin.numpy(), rtol=1e-15)
    g_custom = tape.grad(maya.sum(maya.sin(y)))[x].copy()
    g_twin = tape.grad(maya.sum(maya.sin(twin)))[x]
    assert np.allclose(g_custom, g_twin, rtol=1e-14)


def test_custom_op_errors_propagate_as_python_exceptions():
    class Wrong(maya.TensorOp):
        def __init__(self):
            super().__init__("wrong")

        def backward(self, context):
            context.accumulate_grad(0, np.ones(7))

    tape = maya.TensorTape()
    x = tape.var(np.ones(3))
    y = tape.record(Wrong(), [x], np.ones(3))
    with pytest.raises(maya.ShapeError):
        tape.grad(maya.sum(y))
