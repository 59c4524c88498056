"""Real data that ships inside installed packages (nothing downloaded): scikit-learn's digits, breast cancer,
diabetes, iris and two sample photos; scikit-image's photos, textures and faces (Part III); statsmodels'
sunspot numbers (Part IV).
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


# ------------------------------------------------------------------------------- a CIFAR-10 stand-in

STANDIN_CLASSES = ("astronaut", "coffee", "chelsea", "rocket", "china", "flower", "coins", "brick", "grass", "gravel")
TRAIN_PART = 0.75  # the left three quarters of each picture give the training crops, the rest the test crops


def cifar_standin(n_train: int = 5000, n_val: int = 500, n_test: int = 1000, seed: int = 0):
    """Real 32x32 colour crops in CIFAR-10's format, built from pictures that ship with scikit-image and
    scikit-learn, for when CIFAR-10 itself is not on disk (:func:`lessons_lib.data.cifar.load_cifar10`).

    Ten classes, one per picture (``STANDIN_CLASSES``): six colour photos (astronaut, coffee, chelsea the
    cat, rocket, and scikit-learn's china and flower) and four grey ones (coins and the brick, grass and
    gravel textures, copied to three channels). A sample is a square crop of 32, 64, 96 or 128 pixels at a
    random place, averaged down to 32x32. Training and validation crops come from the left
    three quarters of each picture, test crops from the right quarter, so no test pixel was ever seen in
    training. Balanced classes; the same seed gives the same crops.

    Why it is a fair stand-in: real photographic pixels, CIFAR-10's shape (N, 3, 32, 32) uint8 and ten
    classes, so the notes' network and pipeline run unchanged, and the test set measures generalisation to
    unseen parts of each picture. Where it differs: a class is one scene seen at many places and scales,
    not many objects of one kind, and colour alone separates the colour classes from the grey ones;
    accuracies are not comparable with CIFAR-10's.
    Returns a :class:`lessons_lib.data.splits.Split` of uint8 images and int64 labels.
    """
    from lessons_lib.data.splits import Split

    pictures = standin_pictures()
    rng = np.random.default_rng(seed)
    parts = []
    for n, part in ((n_train, "train"), (n_val, "train"), (n_test, "test")):
        labels = np.arange(n) % len(STANDIN_CLASSES)
        rng.shuffle(labels)
        images = np.zeros((n, 3, 32, 32), np.uint8)
        for i, c in enumerate(labels):
            images[i] = standin_crop(pictures[STANDIN_CLASSES[c]], part, rng)
        parts += [images, labels.astype(np.int64)]
    return Split(*parts)


def standin_pictures() -> dict[str, np.ndarray]:
    """Each class's picture as (H, W, 3) uint8."""
    pics = {**photos(), **sample_images()}
    return {name: np.repeat(pics[name][:, :, None], 3, axis=2) if pics[name].ndim == 2 else pics[name]
            for name in STANDIN_CLASSES}


def standin_region(width: int, part: str) -> tuple[int, int]:
    """The columns [start, stop) of a picture that ``part`` ("train" or "test") crops from."""
    cut = int(width * TRAIN_PART)
    return (0, cut) if part == "train" else (cut, width)


def standin_crop(picture: np.ndarray, part: str, rng) -> np.ndarray:
    """One sample: a square crop of 32, 64, 96 or 128 pixels at a random place in ``part``'s columns of
    ``picture``, shrunk to 32x32 by averaging blocks of pixels; (3, 32, 32) uint8, channels first."""
    h, w, _ = picture.shape
    start, stop = standin_region(w, part)
    factor = int(rng.integers(1, min(4, (stop - start) // 32, h // 32) + 1))   # crop side 32 * factor
    side = 32 * factor
    top, left = int(rng.integers(0, h - side + 1)), int(rng.integers(start, stop - side + 1))
    patch = picture[top : top + side, left : left + side].astype(np.float64)
    small = patch.reshape(32, factor, 32, factor, 3).mean(axis=(1, 3))          # block average to 32x32
    return np.rint(small).astype(np.uint8).transpose(2, 0, 1)                   # (3, 32, 32)


# ------------------------------------------------------------------------------- statsmodels' time series


def sunspots() -> tuple[np.ndarray, np.ndarray]:
    """Yearly mean sunspot numbers, 1700 to 2008 (309 values), as statsmodels ships them: ``(years, values)``.
    A real series with a cycle of about 11 years whose peaks vary in height, the classic test of a forecaster.
    Read from the CSV inside the package (importing statsmodels itself costs about 2 s)."""
    from importlib.resources import files

    path = Path(str(files("statsmodels") / "datasets" / "sunspots" / "sunspots.csv"))
    table = np.loadtxt(path, delimiter=",", skiprows=1)
    return table[:, 0].astype(int), table[:, 1]
