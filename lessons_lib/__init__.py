"""lessons_lib: the from-scratch library behind *Deep Learning, from Neurons to Attention*.

One module per concept (see design.md §4). Notebooks start with ``lessons_lib.setup()``.
"""

__version__ = "0.1.0"


def setup(seed: int = 0, *, quiet: bool = False):
    """Prepare a notebook in one call (seed, style, renderer, threads, device); see :func:`lessons_lib.viz.setup`."""
    from .viz import setup as _setup

    return _setup(seed, quiet=quiet)
