"""The shared argument checks: each returns the value or names the function, the argument, what it got
and what was expected."""

import numpy as np
import pytest
import torch

from lessons_lib import validate as V


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        ((float("nan"),), {}, "f: x is nan; expected a finite number"),
        ((True,), {}, "f: x is True; expected a finite number"),
        (("1",), {}, "f: x is '1'; expected a finite number"),
        ((0, 0), {"low_open": True}, "f: x is 0; expected a positive number"),
        ((-1, 0), {}, "f: x is -1; expected a number >= 0"),
        ((2, None, 1), {}, "f: x is 2; expected a number <= 1"),
        ((1, 0, 1), {"high_open": True}, "f: x is 1; expected a number in [0, 1)"),
    ],
)
def test_number_names_what_it_got_and_wanted(args, kwargs, message):
    with pytest.raises(ValueError) as info:
        V.number("f", "x", *args, **kwargs)
    assert str(info.value) == message


def test_number_and_scalar_return_the_value():
    assert V.number("f", "x", 3, 0, low_open=True) == 3
    assert V.scalar("f", "b", np.array([0.5])) == 0.5 and isinstance(V.scalar("f", "b", np.float32(2)), float)
    with pytest.raises(ValueError, match=r"f: b is an array of shape \(2,\); expected a single finite number"):
        V.scalar("f", "b", np.array([1.0, 2.0]))


@pytest.mark.parametrize(
    ("value", "minimum", "message"),
    [(1.0, None, "an integer"), (True, 1, "a positive integer"), (0, 1, "a positive integer"), (1, 2, "an integer >= 2")],
)
def test_integer(value, minimum, message):
    with pytest.raises(ValueError, match=f"^g: n is {value!r}; expected {message}$"):
        V.integer("g", "n", value, minimum)
    assert V.integer("g", "n", np.int64(3), 1) == 3


def test_one_of_suggests_the_closest_name():
    assert V.one_of("act", "name", "relu", ["relu", "tanh"]) == "relu"
    with pytest.raises(ValueError, match=r"act: name 'rleu' is unknown \(did you mean 'relu'\?\); expected one of relu, tanh"):
        V.one_of("act", "name", "rleu", ["relu", "tanh"])


def test_function():
    with pytest.raises(TypeError, match="h: f is a int; expected a function"):
        V.function("h", "f", 3)


def test_finite_array():
    out = V.finite_array("p", "w", [True, 2])
    assert out.dtype == np.float64 and out.tolist() == [1.0, 2.0]
    with pytest.raises(ValueError, match="p: w contains nan or inf"):
        V.finite_array("p", "w", [1.0, np.inf])
    with pytest.raises(TypeError, match="p: w has dtype <U1; expected real numbers"):
        V.finite_array("p", "w", ["a"])
    with pytest.raises(ValueError, match="p: w could not be read as an array of numbers"):
        V.finite_array("p", "w", [[1, 2], [3]])


def test_as_array_keeps_the_library_and_autograd():
    t = torch.ones(3, dtype=torch.float64, requires_grad=True)
    x, xp = V.as_array("q", "z", t)
    assert x is t and xp.__name__.endswith("torch")
    x, xp = V.as_array("q", "z", [1, 2])
    assert isinstance(x, np.ndarray) and x.dtype == np.float64
    labels, _ = V.as_array("q", "y", np.array([0, 1]), integers="keep")
    assert labels.dtype.kind == "i"
    with pytest.raises(TypeError, match="q: z is a str; expected a number"):
        V.as_array("q", "z", "abc")
    with pytest.raises(TypeError, match="q: z is True"):
        V.as_array("q", "z", True)
