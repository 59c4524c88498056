"""A tiny scalar autograd engine: the backprop chapter's `Value`.

Every arithmetic operation on a :class:`Value` returns a new ``Value`` that remembers its inputs
(``parents``) and the operation (``op``) that produced it. That record is the computation graph.
Calling :meth:`Value.backward` on the final node walks the graph from the output back to the
inputs and applies the chain rule once per edge, so each node ends up with ``grad``, the derivative
of the output with respect to that node.

Gradient bookkeeping follows PyTorch:

- a node used several times receives the sum of the contributions from every use;
- the gradients of *leaves* (nodes you created yourself, with no parents) add up across repeated
  calls to ``backward``; reset them with :meth:`Value.zero_grad` (or set ``.grad = 0.0``) before a
  new pass. Intermediate nodes are reset at the start of every ``backward`` call.

Example::

    >>> a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    >>> c = a * b + a          # a is used twice
    >>> c.backward()
    >>> a.grad, b.grad         # dc/da = b + 1, dc/db = a
    (-2.0, 2.0)

:func:`draw` turns a graph into a plotly figure (no Graphviz needed).
"""

from __future__ import annotations

import math
from numbers import Real

__all__ = ["Value", "draw", "topological_order"]


def _constant_exponent(base: float, exponent) -> float:
    """The exponent of ``base ** exponent`` as a float, if the power is defined for a constant exponent."""
    if isinstance(exponent, Value):
        raise TypeError(
            "Value ** Value is not supported: the exponent must be a constant int or float. "
            "For a variable exponent write (b * a.log()).exp() instead of a ** b."
        )
    if isinstance(exponent, bool) or not isinstance(exponent, Real):
        raise TypeError(f"Value ** k: k must be an int or float, got {type(exponent).__name__}")
    k = float(exponent)
    if base < 0 and not k.is_integer():
        raise ValueError(f"Value ** {k}: a negative base ({base}) needs an integer exponent")
    if base == 0 and k < 0:
        raise ZeroDivisionError(f"Value ** {k}: zero cannot be raised to a negative power")
    return k


def _as_value(other) -> Value:
    """Wrap a plain number as a constant Value; leave Values alone."""
    if isinstance(other, Value):
        return other
    if isinstance(other, Real):
        return Value(float(other))
    raise TypeError(f"Value: cannot combine a Value with {type(other).__name__} {other!r}; expected a number or a Value")


class Value:
    """A scalar that records how it was computed, so that gradients can flow back through it.

    Attributes:
        data: the number itself (a Python float).
        grad: d(output)/d(this node) after ``output.backward()``; 0.0 before.
        label: an optional name shown by ``repr`` and :func:`draw`.
        parents: the Values this one was computed from (empty for a leaf).
        op: the operation that produced it (``"+"``, ``"*"``, ``"tanh"``, ...; ``""`` for a leaf).
    """

    def __init__(self, data, label: str = "", *, parents: tuple = (), op: str = ""):
        if isinstance(data, Value) or not isinstance(data, Real):
            raise TypeError(f"Value: data must be a real number, got {type(data).__name__} {data!r}")
        self.data = float(data)
        self.grad = 0.0
        self.label = label
        self.parents = tuple(parents)
        self.op = op
        self._backward = _no_op  # adds this node's grad into its parents' grads

    def __repr__(self) -> str:
        name = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self.data:.4f}, grad={self.grad:.4f}{name})"

    # ---- binary operations -------------------------------------------------------------------
    def __add__(self, other) -> Value:
        other = _as_value(other)
        out = Value(self.data + other.data, parents=(self, other), op="+")

        def _backward():
            self.grad += out.grad
            other.grad += out.grad

        out._backward = _backward
        return out

    def __sub__(self, other) -> Value:
        other = _as_value(other)
        out = Value(self.data - other.data, parents=(self, other), op="-")

        def _backward():
            self.grad += out.grad
            other.grad -= out.grad

        out._backward = _backward
        return out

    def __mul__(self, other) -> Value:
        other = _as_value(other)
        out = Value(self.data * other.data, parents=(self, other), op="*")

        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out._backward = _backward
        return out

    def __truediv__(self, other) -> Value:
        other = _as_value(other)
        if other.data == 0.0:
            raise ZeroDivisionError(f"Value: division by zero ({self.data} / {other.data})")
        out = Value(self.data / other.data, parents=(self, other), op="/")

        def _backward():
            # d(a/b)/da = 1/b,  d(a/b)/db = -a/b^2
            self.grad += out.grad / other.data
            other.grad -= out.grad * self.data / other.data**2

        out._backward = _backward
        return out

    def __pow__(self, exponent) -> Value:
        k = _constant_exponent(self.data, exponent)
        out = Value(self.data**k, parents=(self,), op=f"**{exponent:g}")

        def _backward():
            # d(x^k)/dx = k x^(k-1); at x = 0 with k < 1 the slope is infinite (as in torch)
            slope = math.inf if (self.data == 0 and k < 1) else k * self.data ** (k - 1)
            self.grad += slope * out.grad

        out._backward = _backward
        return out

    # ---- the mirrored versions, so that 2 * x, 1 - x, 1 / x also work --------------------------
    def __radd__(self, other) -> Value:
        return _as_value(other) + self

    def __rsub__(self, other) -> Value:
        return _as_value(other) - self

    def __rmul__(self, other) -> Value:
        return _as_value(other) * self

    def __rtruediv__(self, other) -> Value:
        return _as_value(other) / self

    def __rpow__(self, base):
        raise TypeError(
            "number ** Value is not supported: the exponent must be a constant. "
            "For c ** x with c > 0 write (x * math.log(c)).exp()."
        )

    def __neg__(self) -> Value:
        out = Value(-self.data, parents=(self,), op="neg")

        def _backward():
            self.grad -= out.grad

        out._backward = _backward
        return out

    # ---- unary functions ---------------------------------------------------------------------
    def exp(self) -> Value:
        """e^x. Overflows to ``inf`` (as torch does) instead of raising for x > ~709."""
        try:
            value = math.exp(self.data)
        except OverflowError:
            value = math.inf
        out = Value(value, parents=(self,), op="exp")

        def _backward():
            self.grad += out.data * out.grad  # d(e^x)/dx = e^x

        out._backward = _backward
        return out

    def log(self) -> Value:
        """Natural logarithm; defined only for data > 0."""
        if self.data <= 0:
            raise ValueError(f"Value.log: needs data > 0, got {self.data}")
        out = Value(math.log(self.data), parents=(self,), op="log")

        def _backward():
            self.grad += out.grad / self.data  # d(ln x)/dx = 1/x

        out._backward = _backward
        return out

    def tanh(self) -> Value:
        t = math.tanh(self.data)
        out = Value(t, parents=(self,), op="tanh")

        def _backward():
            self.grad += (1.0 - t * t) * out.grad

        out._backward = _backward
        return out

    def sigmoid(self) -> Value:
        """1 / (1 + e^-x), computed without overflow for any x."""
        x = self.data
        if x >= 0:
            s = 1.0 / (1.0 + math.exp(-x))
        else:  # e^x is small here, so nothing overflows
            e = math.exp(x)
            s = e / (1.0 + e)
        out = Value(s, parents=(self,), op="sigmoid")

        def _backward():
            self.grad += s * (1.0 - s) * out.grad

        out._backward = _backward
        return out

    def relu(self) -> Value:
        """max(0, x); the slope at exactly 0 is taken as 0 (the torch convention)."""
        out = Value(max(0.0, self.data), parents=(self,), op="relu")

        def _backward():
            self.grad += (self.data > 0) * out.grad

        out._backward = _backward
        return out

    # ---- backpropagation ---------------------------------------------------------------------
    def backward(self) -> None:
        """Fill ``.grad`` of every node in this graph with d(self)/d(node).

        Leaves accumulate (``+=``) across calls, like torch; see the module docstring.
        """
        order = topological_order(self)
        for node in order:
            if node.parents:
                node.grad = 0.0
        self.grad = 1.0  # d(self)/d(self)
        for node in reversed(order):  # from the output back to the leaves
            node._backward()

    def zero_grad(self) -> None:
        """Set ``grad = 0.0`` on every node of the graph that ends at this node."""
        for node in topological_order(self):
            node.grad = 0.0


def _no_op():
    pass


def topological_order(root: Value) -> list[Value]:
    """Every node that ``root`` depends on, parents always before children, ``root`` last.

    An explicit stack replaces recursion, so a chain of 100,000 operations is fine.
    """
    order, visited = [], set()
    stack = [(root, False)]
    while stack:
        node, parents_done = stack.pop()
        if parents_done:  # all of this node's ancestors are already in `order`
            order.append(node)
            continue
        if node in visited:
            continue
        visited.add(node)
        stack.append((node, True))
        stack.extend((p, False) for p in node.parents if p not in visited)
    return order


def _layout(root: Value):
    """Place nodes for :func:`draw`: x grows with depth, rows spread evenly within each column.

    Returns ``order`` (topological), ``pos`` {node: (x, y)} for value boxes, and ``op_pos`` {node: (x, y)}
    for the small op circle that feeds each non-leaf node.
    """
    order = topological_order(root)
    depth = {}
    for node in order:
        depth[node] = 1 + max((depth[p] for p in node.parents), default=-1)
    columns: dict[int, list[Value]] = {}
    for node in order:
        columns.setdefault(depth[node], []).append(node)
    pos, op_pos = {}, {}
    for d, nodes in columns.items():
        for row, node in enumerate(nodes):
            y = (len(nodes) - 1) / 2 - row  # centred on y = 0, first node on top
            pos[node] = (2.0 * d, y)
            if node.parents:
                op_pos[node] = (2.0 * d - 1.0, y)
    return order, pos, op_pos


def draw(root: Value, max_nodes: int = 200):
    """Draw the graph that ends at ``root`` as a plotly figure, inputs on the left, output on the right.

    Each value is a box with its label, ``data`` and ``grad``; each operation is a small circle between
    its inputs and its result. Pure plotly (markers, lines and annotations), so no Graphviz is needed.

    Returns:
        ``plotly.graph_objects.Figure``.
    """
    import plotly.graph_objects as go  # imported here: the engine itself does not need plotly

    order, pos, op_pos = _layout(root)
    if len(order) > max_nodes:
        raise ValueError(f"draw: the graph has {len(order)} nodes, more than max_nodes={max_nodes}; "
                         "it would be unreadable (raise max_nodes to draw it anyway)")
    fig = go.Figure()
    edge_x, edge_y = [], []
    for node in order:
        if not node.parents:
            continue
        ox, oy = op_pos[node]
        for parent in node.parents:  # parent box -> op circle
            px, py = pos[parent]
            edge_x += [px, ox, None]
            edge_y += [py, oy, None]
        nx_, ny_ = pos[node]  # op circle -> result box
        edge_x += [ox, nx_, None]
        edge_y += [oy, ny_, None]
    fig.add_trace(go.Scatter(x=edge_x, y=edge_y, mode="lines", line={"color": "#999", "width": 1},
                             hoverinfo="skip", showlegend=False))
    ops = [n for n in order if n.parents]
    fig.add_trace(go.Scatter(
        x=[op_pos[n][0] for n in ops], y=[op_pos[n][1] for n in ops], mode="markers+text",
        text=[n.op for n in ops], textposition="middle center", hoverinfo="text", showlegend=False,
        marker={"size": 28, "color": "#fde9c9", "line": {"color": "#c77c02", "width": 1}}, name="ops"))
    fig.add_trace(go.Scatter(
        x=[pos[n][0] for n in order], y=[pos[n][1] for n in order], mode="markers", showlegend=False,
        marker={"size": 1, "color": "rgba(0,0,0,0)"}, name="values",
        hovertext=[repr(n) for n in order], hoverinfo="text"))
    for node in order:
        x, y = pos[node]
        title = f"<b>{node.label}</b><br>" if node.label else ""
        fig.add_annotation(x=x, y=y, text=f"{title}data {node.data:.4f}<br>grad {node.grad:.4f}",
                           showarrow=False, bgcolor="#e8f1fb", bordercolor="#3b6ea5", borderpad=4,
                           font={"size": 11})
    fig.update_layout(xaxis={"visible": False}, yaxis={"visible": False}, plot_bgcolor="white",
                      margin={"l": 10, "r": 10, "t": 10, "b": 10}, height=max(250, 90 * _tallest_column(pos)))
    return fig


def _tallest_column(pos: dict) -> int:
    counts: dict[float, int] = {}
    for x, _ in pos.values():
        counts[x] = counts.get(x, 0) + 1
    return max(counts.values())
