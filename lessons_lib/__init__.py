"""lessons_lib: the from-scratch library behind *Deep Learning, from Neurons to Attention*.

The path of a module says what it is (design.md §4), in dependency order from the bottom up:

- ``device``, ``validate``: the one device/thread/seed policy; the shared argument checks;
- ``functional``: stateless maths written once against the array API (NumPy or torch, CPU or GPU);
- ``data``: every dataset, offline; splits and mini-batches;
- ``scratch``: Part I's NumPy networks with an explicit backward; ``training``: the PyTorch side;
- ``models``: the ``nn.Module``s the book trains (from Part III on); ``deploy``: saving, ONNX export, serving;
- ``notebook``: plotting, experiments, ``show`` and the exercise checkers.

A lower layer never imports a higher one (``tests/test_layers_order.py``). Notebooks start with
``lessons_lib.setup()``.
"""

__version__ = "0.2.0"


def setup(seed: int = 0, *, quiet: bool = False):
    """Prepare a notebook in one call: seed, plotting style, plotly renderer, thread policy, device report.

    Returns the ``torch.device`` chosen by :func:`lessons_lib.device.get_device`.
    """
    from lessons_lib.device import get_device, is_static, seed_everything, set_threads
    from lessons_lib.notebook.viz import register_plotly, style_matplotlib

    seed_everything(seed)
    style_matplotlib()
    register_plotly()
    threads = set_threads()
    device = get_device()
    if not quiet:
        import torch

        mode = "static (book build / tests)" if is_static() else "live widgets"
        print(
            f"lessons_lib {__version__} | torch {torch.__version__} on {device} "
            f"({threads} CPU thread{'s' if threads != 1 else ''}) | seed {seed} | experiments: {mode}"
        )
    return device
