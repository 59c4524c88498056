"""The scalar autograd engine against hand derivatives and against torch autograd (float64)."""

import math
import random
import sys

import pytest
import torch

from lessons_lib.scratch.autograd import Value, draw, topological_order


def test_hand_computed_example():
    a, b = Value(2.0, "a"), Value(-3.0, "b")
    c = a * b + a  # dc/da = b + 1, dc/db = a
    c.backward()
    assert c.data == -4.0
    assert (a.grad, b.grad) == (-2.0, 2.0)


def test_reflected_operators_with_plain_numbers():
    x = Value(4.0)
    for expr, value, slope in [
        (2 + x, 6.0, 1.0), (x + 2, 6.0, 1.0), (10 - x, 6.0, -1.0), (x - 1, 3.0, 1.0),
        (3 * x, 12.0, 3.0), (x * 3, 12.0, 3.0), (8 / x, 2.0, -0.5), (x / 2, 2.0, 0.5),
        (-x, -4.0, -1.0), (x**2, 16.0, 8.0), (x**0.5, 2.0, 0.25), (x**-1, 0.25, -1 / 16),
    ]:
        x.grad = 0.0
        expr.backward()
        assert expr.data == pytest.approx(value)
        assert x.grad == pytest.approx(slope)


def test_node_used_twice_gets_both_contributions():
    a = Value(3.0)
    (a * a).backward()
    assert a.grad == 6.0
    b = Value(3.0)
    (b + b).backward()
    assert b.grad == 2.0


def test_leaf_grads_accumulate_across_backward_calls_like_torch():
    a, b = Value(2.0), Value(5.0)
    c = (a * b).tanh() * a
    c.backward()
    first = (a.grad, b.grad)
    c.backward()
    assert (a.grad, b.grad) == pytest.approx((2 * first[0], 2 * first[1]))
    c.zero_grad()
    assert a.grad == b.grad == c.grad == 0.0
    c.backward()
    assert (a.grad, b.grad) == pytest.approx(first)


def test_deep_chain_does_not_hit_the_recursion_limit():
    n = max(10_000, 2 * sys.getrecursionlimit())
    x = Value(0.5)
    y = x
    for _ in range(n):
        y = y + x  # y = (n + 1) x
    y.backward()
    assert x.grad == n + 1
    assert len(topological_order(y)) == n + 1


def test_extreme_inputs_do_not_raise():
    assert Value(-1000.0).sigmoid().data == 0.0
    assert Value(1000.0).sigmoid().data == 1.0
    assert Value(1000.0).exp().data == math.inf
    assert Value(-1000.0).tanh().data == -1.0
    big = Value(800.0)
    s = big.sigmoid()
    s.backward()
    assert big.grad == 0.0


def test_relu_slope_at_zero_is_zero():
    z = Value(0.0)
    z.relu().backward()
    assert z.grad == 0.0


def test_errors_are_clear():
    with pytest.raises(TypeError, match="exponent must be a constant"):
        Value(2.0) ** Value(3.0)
    with pytest.raises(TypeError, match="exponent must be a constant"):
        2.0 ** Value(3.0)
    with pytest.raises(ValueError, match="log: needs data > 0, got 0.0"):
        Value(0.0).log()
    with pytest.raises(ValueError, match="log: needs data > 0, got -1.0"):
        Value(-1.0).log()
    with pytest.raises(ValueError, match="negative base"):
        Value(-2.0) ** 0.5
    with pytest.raises(ZeroDivisionError, match="division by zero"):
        Value(1.0) / 0
    with pytest.raises(TypeError, match="data must be a real number"):
        Value("3")
    with pytest.raises(TypeError, match="cannot combine a Value with str"):
        Value(1.0) + "x"


def test_repr():
    v = Value(2.0)
    v.grad = 0.5
    assert repr(v) == "Value(data=2.0000, grad=0.5000)"
    assert repr(Value(1.0, "w")) == "Value(data=1.0000, grad=0.0000, label='w')"


# ---- random expression graphs against torch ------------------------------------------------------

UNARY = ["neg", "exp", "log", "tanh", "sigmoid", "relu", "pow"]
BINARY = ["+", "-", "*", "/"]


def _apply(op, a, b=None, k=None):
    """The same operation on Values or on torch tensors (b may be a plain number)."""
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op == "/":
        return a / b
    if op == "neg":
        return -a
    if op == "pow":
        return a**k
    if isinstance(a, Value):
        return getattr(a, op)()
    return getattr(torch, op)(a)


def _allowed(op, x, y=None, k=None):
    """Keep every intermediate finite and away from the places where an op is undefined."""
    if op == "exp":
        return x < 5
    if op == "log":
        return x > 0.1
    if op == "/":
        return abs(y) > 0.2
    if op == "pow":
        return (k == int(k) or x > 0.1) and (k > 0 or abs(x) > 0.2)
    return True


def _random_graph(rng: random.Random, n_leaves: int = 4, n_ops: int = 25):
    """Build one random expression twice (Values and float64 tensors), reusing nodes so sub-expressions are shared."""
    leaves = [rng.uniform(-2, 2) for _ in range(n_leaves)]
    vals = [Value(x) for x in leaves]
    tens = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in leaves]
    pool = list(zip(vals, tens))
    for _ in range(n_ops):
        i = rng.randrange(len(pool))
        v, t = pool[i]
        if rng.random() < 0.5:
            op, k = rng.choice(UNARY), rng.choice([2, 3, -1, 0.5, 1.5])
            if not _allowed(op, v.data, k=k):
                continue
            new = (_apply(op, v, k=k), _apply(op, t, k=k))
        else:
            op = rng.choice(BINARY)
            if rng.random() < 0.25:  # a plain number on one side
                c = rng.choice([-1.5, 0.5, 2.0, 3.0])
                if rng.random() < 0.5:
                    if not _allowed(op, v.data, c):
                        continue
                    new = (_apply(op, v, c), _apply(op, t, c))
                else:
                    if not _allowed(op, c, v.data):
                        continue
                    new = (_apply(op, c, v), _apply(op, c, t))
            else:
                v2, t2 = pool[rng.randrange(len(pool))]
                if not _allowed(op, v.data, v2.data):
                    continue
                new = (_apply(op, v, v2), _apply(op, t, t2))
        if abs(new[0].data) < 1e4:
            pool.append(new)
    # the output mixes the last few nodes, so most of the graph matters
    out_v, out_t = pool[-1]
    for v, t in pool[-4:-1]:
        out_v, out_t = out_v + v.tanh(), out_t + torch.tanh(t)
    return vals, tens, out_v, out_t


@pytest.mark.parametrize("seed", range(60))
def test_random_graphs_match_torch(seed):
    vals, tens, out_v, out_t = _random_graph(random.Random(seed))
    out_v.backward()
    out_t.backward()
    assert out_v.data == pytest.approx(out_t.item(), rel=1e-12, abs=1e-12)
    for v, t in zip(vals, tens):
        expected = 0.0 if t.grad is None else t.grad.item()
        assert v.grad == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_random_graphs_are_not_trivial():
    """Guard for the test above: the generated graphs really use many ops and shared nodes."""
    ops, shared = set(), 0
    for seed in range(60):
        *_, out_v, _ = _random_graph(random.Random(seed))
        order = topological_order(out_v)
        ops |= {"**" if n.op.startswith("**") else n.op for n in order}
        children = [p for n in order for p in n.parents]
        shared += len(children) - len(set(children))
    assert {"+", "-", "*", "/", "neg", "exp", "log", "tanh", "sigmoid", "relu", "**"} <= ops
    assert shared > 100


# ---- drawing ------------------------------------------------------------------------------------

def test_draw_places_inputs_left_of_outputs():
    a, b = Value(2.0, "a"), Value(-3.0, "b")
    c = (a * b + a).tanh()
    c.label = "c"
    c.backward()
    fig = draw(c)
    boxes = {ann.text: (ann.x, ann.y) for ann in fig.layout.annotations}
    assert len(boxes) == len(topological_order(c))
    assert any("grad" in text and "<b>a</b>" in text for text in boxes)
    x_of = {text.split("</b>")[0][3:]: x for text, (x, _) in boxes.items() if text.startswith("<b>")}
    assert x_of["a"] < x_of["c"] and x_of["b"] < x_of["c"]
    edges = fig.data[0]
    xs = [x for x in edges.x]
    for start, end in zip(xs[0::3], xs[1::3]):
        assert start < end  # every edge points left to right
    assert sorted(fig.data[1].text) == sorted(["*", "+", "tanh"])


def test_draw_refuses_huge_graphs():
    x = Value(1.0)
    y = x
    for _ in range(300):
        y = y * 1.0
    with pytest.raises(ValueError, match="max_nodes"):
        draw(y)
