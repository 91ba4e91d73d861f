"""Helpers every notebook shares, written once: the build copies each into the locked
cells of the masters that name it (see rnncourse/provided.py), so a student's
notebook needs no file beside it and every copy is this one.

Only what a student may read belongs here: the self-checks' comparison, the
numerics switch and the way a class grows over several cells.
"""
from __future__ import annotations

import numpy as np


def check_array(name, got, expected, likely_mistakes=(), rtol=1e-6, atol=1e-9):
    """Fail with a message that helps unless GOT equals EXPECTED (to rtol and atol).

    likely_mistakes: pairs (wrong_result, message); when GOT equals one of the
    wrong results, the message says what probably went wrong.
    """
    expected = np.asarray(expected, dtype=np.float64)
    # Exactly an ndarray: a subclass could redefine what its comparisons say.
    if type(got) is not np.ndarray:
        raise AssertionError(f"{name} should be a NumPy array (np.ndarray), got {type(got).__name__}")

    def name_the_mistake():
        for wrong, message in likely_mistakes:
            if np.shape(wrong) == got.shape and np.allclose(got, wrong, rtol=rtol, atol=atol):
                raise AssertionError(f"{name} is wrong: {message}")

    if got.shape != expected.shape:
        name_the_mistake()
        raise AssertionError(f"{name} should have shape {expected.shape}, got {got.shape}"
                             + shape_hint(got.shape, expected.shape))
    if got.dtype.kind not in "biuf":
        raise AssertionError(f"{name} should hold numbers, got dtype {got.dtype}")
    if not np.all(np.isfinite(got)):
        raise AssertionError(f"{name} holds NaN or infinity")
    if np.allclose(got, expected, rtol=rtol, atol=atol):
        return
    name_the_mistake()
    worst = tuple(int(i) for i in np.unravel_index(np.argmax(np.abs(got - expected)), got.shape))
    raise AssertionError(
        f"{name} is wrong: at index {worst} expected {expected[worst]:.6f}, got {got[worst]:.6f}"
    )


def shape_hint(got, expected):
    """What a wrong shape GOT says about the mistake, read from the shapes alone ('' if nothing)."""
    if len(got) == len(expected) and sorted(got) == sorted(expected):
        return ": the same axes in another order (a transpose, or axes swapped)"
    for axis in range(len(expected)):
        if len(got) == len(expected) - 1 and got == expected[:axis] + expected[axis + 1:]:
            return (f": axis {axis} (of length {expected[axis]}) is missing; was it summed, "
                    "averaged or indexed away?")
        if got[:axis] + got[axis + 1:] == expected and len(got) == len(expected) + 1:
            return f": an extra axis {axis} of length {got[axis]} (keepdims, or a stray [None]?)"
    differ = [axis for axis in range(len(got)) if len(got) == len(expected) and got[axis] != expected[axis]]
    if len(differ) == 1:
        axis = differ[0]
        return f": axis {axis} has length {got[axis]} instead of {expected[axis]}"
    return ""


def strict_numerics():
    """Inside `with strict_numerics():` an overflow, a division by zero or an invalid
    operation (such as log(0) or 0/0) raises FloatingPointError instead of warning."""
    return np.errstate(over="raise", divide="raise", invalid="raise")


def add_to_class(cls):
    """Decorator: add the function below it to CLS as a method, so that a class can be
    written over several cells (`@add_to_class(SimpleRNN)` above `def backward(self, dh)`)."""
    def add(function):
        setattr(cls, function.__name__, function)
        return function
    return add
