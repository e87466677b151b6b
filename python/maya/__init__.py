"""maya: differentiable physics (C++20), from Python.

The names mirror the C++ API: maya.Tape / maya.Var (scalar tape), maya.Tensor, maya.TensorTape /
maya.TensorVar and every tensor op, the simulators (mass-spring, 2-D rigid, hard contact in
maya.contact, FEM in maya.fem), the optimizers (maya.optim), scene and task files (maya.io).
maya.torch wraps maya computations as torch.autograd functions.
"""

from . import _maya
from ._maya import *  # noqa: F401,F403

__all__ = [name for name in dir(_maya) if not name.startswith("_")]
for _layer in ("optim", "contact", "fem", "io"):
    if hasattr(_maya, _layer):
        globals()[_layer] = getattr(_maya, _layer)
del _layer
