"""Real data that ships inside installed packages (nothing downloaded): scikit-learn's digits, breast cancer,
diabetes, iris and two sample photos; scikit-image's photos, textures and faces (Part III).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lessons_lib.data.tables import Table
from lessons_lib.validate import unknown

# ---------------------------------------------------------------------------------- scikit-learn data

REAL = ("digits", "breast_cancer", "diabetes", "iris")


def load(name: str) -> Table:
    """A real dataset bundled with scikit-learn (no download).

    ``digits``: 1,797 handwritten digits, 8x8 pixels flattened to 64 columns with values 0..16.
    ``breast_cancer``: 569 tumours, 30 measurements, target 1 = benign, 0 = malignant.
    ``diabetes``: 442 patients, 10 standardised measurements, target = disease progression after a year.
    ``iris``: 150 flowers, 4 measurements, 3 species.
    """
    from sklearn import datasets

    if name not in REAL:
        raise unknown("load: name", name, REAL)
    bunch = getattr(datasets, f"load_{name}")()
    target_names = [str(t) for t in bunch.target_names] if "target_names" in bunch else None
    y = bunch.target.astype(np.int64) if name != "diabetes" else bunch.target.astype(np.float64)
    names = [str(f) for f in bunch.feature_names]
    first = bunch.DESCR.strip().splitlines()
    description = next((line for line in first if line.strip() and not line.startswith("..")), name)
    target = {"digits": "digit", "breast_cancer": "benign", "diabetes": "progression", "iris": "species"}[name]
    return Table(bunch.data.astype(np.float64), y, names, target, description, target_names=target_names)


def sample_images() -> dict[str, np.ndarray]:
    """scikit-learn's two sample photos, ``china`` and ``flower``: uint8 arrays of shape (427, 640, 3)."""
    from sklearn.datasets import load_sample_images

    bunch = load_sample_images()
    return {Path(f).stem: img for f, img in zip(bunch.filenames, bunch.images)}


# ---------------------------------------------------------------------------------- scikit-image data

PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "camera", "coins", "brick", "grass", "gravel")


def photos() -> dict[str, np.ndarray]:
    """scikit-image's bundled pictures as uint8 arrays: colour photos ``astronaut`` (512, 512, 3), ``coffee``
    (400, 600, 3), ``chelsea`` the cat (300, 451, 3) and ``rocket`` (427, 640, 3); grey photos ``camera``
    (512, 512) and ``coins`` (303, 384); grey textures ``brick``, ``grass`` and ``gravel`` (512, 512)."""
    import skimage.data

    return {name: getattr(skimage.data, name)() for name in PHOTOS}


def faces() -> tuple[np.ndarray, np.ndarray]:
    """Real faces against real non-faces: scikit-image's ``lfw_subset``, 200 grey 25x25 images in [0, 1], the
    first 100 faces from Labeled Faces in the Wild, the other 100 patches of other photos.
    Returns images (200, 25, 25) float64 and labels (200,) int64, 1 = face."""
    import skimage.data

    images = skimage.data.lfw_subset().astype(np.float64)
    return images, (np.arange(len(images)) < 100).astype(np.int64)
