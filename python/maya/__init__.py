"""maya: differentiable physics (C++20), from Python.

The names mirror the C++ API: maya.Tape / maya.Var (scalar tape), maya.Tensor, maya.TensorTape /
maya.TensorVar and every tensor op, the simulators (mass-spring and 2-D rigid bodies here, hard
contact in maya.contact, soft bodies in maya.fem), the optimizers (maya.optim), scene and task
files (maya.io). maya.torch wraps maya computations as torch.autograd functions.
"""

import builtins as _builtins
import sys as _sys

from . import _maya
from ._maya import *  # noqa: F401,F403

# `import maya.fem` and `from maya.optim import Adam` find the extension's submodules.
for _layer in ("optim", "contact", "fem", "io"):
    _sys.modules[f"{__name__}.{_layer}"] = getattr(_maya, _layer)

# `from maya import *` leaves Python's own names (sum, max, abs, ValueError, ...) alone.
__all__ = [name for name in dir(_maya)
           if not name.startswith("_") and not hasattr(_builtins, name)]
del _layer
