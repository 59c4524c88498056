"""The checker core (compare) and show(), tested both ways."""

import numpy as np
import pytest

from lessons_lib.notebook.checking import NOT_ATTEMPTED, CheckResult, compare, describe_case
from lessons_lib.notebook.show import show


def reference_sigmoid(z):
    return 0.5 * (1 + np.tanh(0.5 * np.asarray(z, dtype=float)))


CASES = [{"z": 0.0}, {"z": np.array([-1.0, 0.0, 2.0])}, {"z": -800.0}, {"z": 800.0}]


def nan_hint(case, got, expected):
    return "compute exp of a non-positive number only" if np.isnan(np.asarray(got, dtype=float)).any() else None


def test_reference_passes():
    r = compare(reference_sigmoid, reference_sigmoid, CASES, name="sigmoid")
    assert r.passed and r.message == "all 4 checks passed"
    assert str(r).startswith("\u2705 sigmoid")


def test_overflowing_version_is_diagnosed_with_the_input_and_a_hint():
    def naive(z):
        with np.errstate(all="ignore"):
            e = np.exp(np.asarray(z, dtype=float))
            return e / (1 + e)

    r = compare(naive, reference_sigmoid, CASES, name="sigmoid", hints=[nan_hint])
    assert not r.passed and r.status == "failed"
    assert "fails for z = 800: got nan, expected 1" in r.message
    assert "Hint: compute exp of a non-positive number only" in r.message


def test_wrong_values_and_wrong_shapes():
    r = compare(lambda z: np.asarray(z) * 0 + 0.4, reference_sigmoid, CASES, name="sigmoid")
    assert "fails for z = 0: got 0.4, expected 0.5" in r.message
    r = compare(lambda z: np.atleast_2d(reference_sigmoid(z)), reference_sigmoid, CASES[1:2], name="sigmoid")
    assert "got shape (1, 3), expected shape (3,)" in r.message


def test_not_attempted_and_errors_do_not_raise():
    def stub(z):
        raise NotImplementedError

    r = compare(stub, reference_sigmoid, CASES, name="sigmoid")
    assert r.status == NOT_ATTEMPTED and "not attempted yet" in r.message and not r.passed

    def broken(z):
        return 1 / 0

    r = compare(broken, reference_sigmoid, CASES, name="sigmoid")
    assert r.status == "error" and "raised ZeroDivisionError: division by zero for z = 0" in r.message
    assert compare(None, reference_sigmoid, CASES, name="sigmoid").status == "error"


def test_non_numeric_result():
    r = compare(lambda z: "half", reference_sigmoid, CASES, name="sigmoid")
    assert "got 'half' (str), expected a number or array like 0.5" in r.message


def test_inputs_are_copied_so_a_mutating_function_cannot_corrupt_the_reference():
    def mutating(z):
        z[...] = 0
        return reference_sigmoid(z)

    r = compare(mutating, reference_sigmoid, [{"z": np.array([1.0, 2.0])}], name="sigmoid")
    assert "fails" in r.message


def test_custom_comparison():
    r = compare(lambda: "b", lambda: "a", [{}], name="letters", compare_fn=lambda g, e: None if g == e else f"{g} != {e}")
    assert r.message == "fails for : b != a"


def test_result_renders_as_markdown():
    r = CheckResult("x", "passed", "ok")
    assert r._repr_markdown_() == "\u2705 **x**: ok"


def test_describe_is_compact():
    assert describe_case({"z": np.arange(100.0)}).startswith("z = [ 0.,  1.,  2., ...,")


def test_show_returns_highlightable_source():
    src = show(reference_sigmoid)
    assert src.code.startswith("def reference_sigmoid(z):")
    assert src._repr_markdown_().startswith("```python\ndef reference_sigmoid")
    from lessons_lib.data.splits import split

    assert "def split(" in show(split).code


def test_show_rejects_objects_without_source():
    with pytest.raises(TypeError, match="show: cannot find the source of 3"):
        show(3)


def test_same_values_and_as_arrays():
    import torch

    from lessons_lib.notebook.checking import as_arrays, same_values

    assert same_values([1.0, 2.0], np.array([1.0, 2.0 + 1e-9])) and same_values(torch.tensor([1.0]), [1.0])
    assert not same_values([1.0, 2.0], [1.0, 2.1]) and not same_values([1.0], [[1.0]]) and not same_values("x", [1.0])
    assert not same_values([0.0], [1e-10], atol=1e-12)
    parts = as_arrays((torch.tensor([1.0]), [2.0, 3.0]), 2)
    assert [p.tolist() for p in parts] == [[1.0], [2.0, 3.0]]
    assert as_arrays([1.0], 2) is None and as_arrays(np.zeros(2), 2) is None and as_arrays(("a", [1]), 2) is None
