"""Every dataset the book uses, all offline: nothing is downloaded, ever.

- :mod:`lessons_lib.data.toy`: 2-D toy sets; :mod:`~lessons_lib.data.tables`: the running-example tables;
- :mod:`~lessons_lib.data.real`: data bundled with installed packages; :mod:`~lessons_lib.data.mnist`: MNIST-1D, IDX files;
- :mod:`~lessons_lib.data.text`: the English corpus; :mod:`~lessons_lib.data.splits`: splits, batches, k-fold;
- :mod:`~lessons_lib.data.augment`: image augmentation; :mod:`~lessons_lib.data.cifar`: CIFAR-10's files, if a reader has them.

:func:`load_dataset` reaches all of them by name.
"""

from __future__ import annotations

from lessons_lib.data.mnist import mnist1d
from lessons_lib.data.real import REAL, load
from lessons_lib.data.tables import century, employee_bonus, insurance
from lessons_lib.data.text import text_corpus
from lessons_lib.data.toy import toy
from lessons_lib.validate import unknown

# ------------------------------------------------------------------------------------------ by name

_TABLES = {"employee_bonus": employee_bonus, "insurance": insurance, "century": century}


DATASETS = ("xor", "moons", "circles", "spirals", "blobs", *_TABLES, *REAL, "mnist1d", "text_corpus")


def load_dataset(name: str, **kwargs):
    """Any dataset of the book by name (see ``DATASETS``); keyword arguments go to its function."""
    if name in ("xor", "moons", "circles", "spirals", "blobs"):
        return toy(name, **kwargs)
    if name in _TABLES:
        return _TABLES[name](**kwargs)
    if name in REAL:
        return load(name, **kwargs)
    if name == "mnist1d":
        return mnist1d(**kwargs)
    if name == "text_corpus":
        return text_corpus(**kwargs)
    raise unknown("load_dataset: name", name, DATASETS)
