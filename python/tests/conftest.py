"""Shared helpers of the Python tests: central differences and fixed random inputs."""

import numpy as np


def central_differences(f, x, h=1e-6):
    """d f / d x of a scalar function of an array, by (f(x + h e_i) - f(x - h e_i)) / 2h."""
    x = np.array(x, dtype=np.float64)
    gradient = np.zeros_like(x)
    flat = x.reshape(-1)
    out = gradient.reshape(-1)
    for i in range(flat.size):
        saved = flat[i]
        flat[i] = saved + h
        plus = f(x)
        flat[i] = saved - h
        minus = f(x)
        flat[i] = saved
        out[i] = (plus - minus) / (2 * h)
    return gradient


def relative_error(analytic, numeric):
    analytic = np.asarray(analytic)
    numeric = np.asarray(numeric)
    return float(np.max(np.abs(analytic - numeric) / np.maximum(1.0, np.abs(numeric))))
