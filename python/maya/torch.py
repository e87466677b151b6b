"""maya computations as torch.autograd functions (float64 tensors on the CPU).

``function(fn)`` turns ``fn(tape, *leaves)``, which records a computation on a maya TensorTape
and returns a TensorVar (or a tuple of them), into a function of torch tensors. Its forward pass
records fn on a fresh tape; its backward pass is one reverse sweep of that tape, seeded with the
incoming gradients, so a PyTorch loss differentiates through maya's adjoints (fused simulator
steps, implicit solves) into PyTorch parameters. Inputs are read without a copy where their
layout allows (contiguous float64) and copied once, into the tape; gradients come back as torch
tensors over maya's memory, without a copy.

    step = maya.torch.mass_spring_step(model, dt=1e-3)
    next_state = step(state, mass, stiffness, damping, rest_length)   # torch tensors in and out
"""

import torch as _torch

from . import _maya

__all__ = ["function", "mass_spring_step", "mass_spring_rollout", "rigid_step",
           "hard_contact_step"]


def _as_array(value, what):
    if not isinstance(value, _torch.Tensor):
        raise TypeError(f"maya.torch: {what} is a {type(value).__name__}, expected a torch.Tensor")
    if value.dtype != _torch.float64:
        raise _maya.DTypeError(
            f"maya.torch: {what} has dtype {value.dtype}; maya computes in float64 "
            "(convert it with .double())")
    if value.device.type != "cpu":
        raise _maya.DeviceError(
            f"maya.torch: {what} is on {value.device}; maya's tensors are on the CPU")
    # resolve_neg: a lazily negated view has no NumPy form (a no-op for every other tensor).
    return value.detach().resolve_neg().numpy()


def _record(fn, tape, inputs, needs):
    """Records fn on tape from the torch inputs; returns (leaves, outputs, single)."""
    leaves = []
    for i, (value, need) in enumerate(zip(inputs, needs)):
        array = _as_array(value, f"input {i}")
        leaves.append(tape.var(array) if need else tape.constant(array))
    result = fn(tape, *leaves)
    single = isinstance(result, _maya.TensorVar)
    outputs = (result,) if single else tuple(result)
    for i, output in enumerate(outputs):
        if not isinstance(output, _maya.TensorVar):
            raise TypeError(f"maya.torch.function: output {i} of the recorded function is a "
                            f"{type(output).__name__}, expected a maya.TensorVar")
    return leaves, outputs, single


class _TapePool:
    """Tapes of one function, reused: a tape keeps its memory across clear(), so a training loop
    does not map and fault in fresh pages for every rollout."""

    def __init__(self, size=2):
        self._free = []
        self._size = size

    def take(self):
        return self._free.pop() if self._free else _maya.TensorTape()

    def give_back(self, tape):
        if len(self._free) < self._size:
            tape.clear()
            self._free.append(tape)


class _TapeFunction(_torch.autograd.Function):
    @staticmethod
    def forward(ctx, fn, pool, *inputs):
        tape = pool.take()
        try:
            leaves, outputs, single = _record(fn, tape, inputs, ctx.needs_input_grad[2:])
        except BaseException:
            pool.give_back(tape)
            raise
        ctx.fn, ctx.pool, ctx.tape, ctx.leaves, ctx.outputs = fn, pool, tape, leaves, outputs
        ctx.save_for_backward(*inputs)
        values = tuple(_torch.from_numpy(output.numpy().copy()) for output in outputs)
        return values[0] if single else values

    @staticmethod
    @_torch.autograd.function.once_differentiable
    def backward(ctx, *grad_outputs):
        needs = ctx.needs_input_grad[2:]
        if ctx.tape is None:
            # A second backward through the same graph (retain_graph=True): the first one gave
            # the tape back, so record the function again from the saved inputs.
            ctx.tape = _maya.TensorTape()
            ctx.leaves, ctx.outputs, _ = _record(ctx.fn, ctx.tape, ctx.saved_tensors, needs)
        tape = ctx.tape
        # d/dinputs sum_k <g_k, output_k>: the vector-Jacobian product of every output at once.
        seed = None
        for output, g in zip(ctx.outputs, grad_outputs):
            if g is None:
                continue
            if output.numel == 1:
                weight = float(g.reshape(-1)[0])
                term = output if weight == 1.0 else output * weight
            else:
                weights = tape.constant(_as_array(g, "a gradient").reshape(output.shape))
                term = _maya.sum(output * weights)
            seed = term if seed is None else seed + term
        if seed is None:
            return (None, None) + (None,) * len(needs)
        gradients = tape.grad(seed)
        result = (None, None) + tuple(
            _torch.from_numpy(gradients[leaf]) if need else None
            for leaf, need in zip(ctx.leaves, needs))
        # The gradients live in `gradients`, not in the tape: the tape can be reused.
        ctx.pool.give_back(tape)
        ctx.tape, ctx.leaves, ctx.outputs = None, None, None
        return result


def function(fn):
    """A torch function from fn(tape, *leaves) -> TensorVar or tuple of TensorVars.

    Every argument of the returned function is a float64 CPU torch tensor; those that require a
    gradient become var() leaves of the tape, the others constants. The function reuses its
    tapes from one call to the next once their backward pass is done.
    """
    pool = _TapePool()

    def apply(*inputs):
        return _TapeFunction.apply(fn, pool, *inputs)

    apply.__doc__ = fn.__doc__
    apply.__name__ = getattr(fn, "__name__", "maya_function")
    return apply


def mass_spring_step(model, dt):
    """step(state [2, N, D], mass [N], stiffness [E], damping [E], rest_length [E]) -> state."""
    def record(tape, state, mass, stiffness, damping, rest_length):
        params = _maya.SpringParameters(mass, stiffness, damping, rest_length)
        return model.step(state, params, dt)

    return function(record)


def mass_spring_rollout(model, dt, steps):
    """rollout(state, mass, stiffness, damping, rest_length) -> states [steps + 1, 2, N, D]."""
    def record(tape, state, mass, stiffness, damping, rest_length):
        params = _maya.SpringParameters(mass, stiffness, damping, rest_length)
        return _maya.stack(model.rollout(state, params, dt, steps), 0)

    return function(record)


_RIGID_FIELDS = ("mass", "inertia", "vertices", "radius", "applied", "stiffness", "damping",
                 "friction")


def rigid_step(world, dt):
    """step(state [2, K, 3], mass, inertia, vertices, radius, applied, stiffness, damping,
    friction) -> state, for a maya.RigidWorld2D (penalty contact)."""
    def record(tape, state, *params):
        return world.step(state, _maya.RigidParameters(**dict(zip(_RIGID_FIELDS, params))), dt)

    return function(record)


_HARD_FIELDS = ("mass", "inertia", "vertices", "radius", "applied", "anchors")


def hard_contact_step(world, dt):
    """step(state [2, K, 3], mass, inertia, vertices, radius, applied, anchors) -> state, for a
    maya.contact.HardContactWorld2D."""
    def record(tape, state, *params):
        parameters = _maya.contact.HardContactParameters(**dict(zip(_HARD_FIELDS, params)))
        return world.step(state, parameters, dt)

    return function(record)
