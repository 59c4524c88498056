"""Every dataset loads offline (conftest blocks the network), with the documented shapes and truths."""

import numpy as np
import pytest

from lessons_lib.data import load_dataset
from lessons_lib.data.mnist import mnist1d
from lessons_lib.data.real import load, sample_images
from lessons_lib.data.splits import batches, kfold, lm_batch, split
from lessons_lib.data.tables import (
    CENTURY_TRUE,
    INSURANCE_CENTRE,
    INSURANCE_SCALE,
    century,
    century_network,
    employee_bonus,
    insurance,
    insurance_network,
)
from lessons_lib.data.text import text_corpus
from lessons_lib.data.toy import SPIRAL_TURNS, toy


@pytest.mark.parametrize("name", ["xor", "moons", "circles", "spirals", "blobs"])
def test_toy_sets_shapes_and_determinism(name):
    X, y = toy(name, n=101, noise=0.05, seed=3)
    assert X.shape == (101, 2) and y.shape == (101,)
    assert X.dtype == np.float64 and y.dtype == np.int64
    X2, y2 = toy(name, n=101, noise=0.05, seed=3)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    assert not np.array_equal(X, toy(name, n=101, noise=0.05, seed=4)[0])
    assert len(np.unique(y)) == (3 if name == "blobs" else 2)


def test_xor_labels_follow_the_sign_rule_without_noise():
    X, y = toy("xor", n=500, noise=0.0)
    np.testing.assert_array_equal(y, (np.sign(X[:, 0]) != np.sign(X[:, 1])).astype(int))


def test_circles_radii_without_noise():
    X, y = toy("circles", n=200, noise=0.0)
    r = np.hypot(X[:, 0], X[:, 1])
    np.testing.assert_allclose(r[y == 0], 1.0)
    np.testing.assert_allclose(r[y == 1], 0.5)


def test_noise_moves_points():
    clean, _ = toy("moons", n=200, noise=0.0, seed=1)
    noisy, _ = toy("moons", n=200, noise=0.3, seed=1)
    assert 0.15 < np.std(noisy - clean) < 0.45


@pytest.mark.parametrize("classes", [2, 3])
def test_spiral_arms_wind_one_and_a_half_turns(classes):
    X, y = toy("spirals", n=600, noise=0.0, seed=2, classes=classes)
    r = np.hypot(X[:, 0], X[:, 1])
    t = (r - 0.05) / 0.95  # how far along its arm each point lies, recovered from its radius
    angle = 2 * np.pi * (y / classes + SPIRAL_TURNS * t)
    np.testing.assert_allclose(X, r[:, None] * np.c_[np.cos(angle), np.sin(angle)], atol=1e-12)
    assert SPIRAL_TURNS == 1.5
    for arm in range(classes):  # walking out along each arm, the direction turns through 1.5 full turns
        order = np.argsort(t[y == arm])
        swept = np.unwrap(np.arctan2(X[y == arm, 1], X[y == arm, 0])[order])
        assert 1.45 < (swept[-1] - swept[0]) / (2 * np.pi) <= 1.5


def test_spirals_and_blobs_accept_classes():
    assert set(toy("spirals", n=90, classes=3)[1]) == {0, 1, 2}
    assert set(toy("blobs", n=100, classes=5)[1]) == {0, 1, 2, 3, 4}


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"name": "moon"}, r"toy: name 'moon' is unknown \(did you mean 'moons'\?\); expected one of xor, moons"),
        ({"name": "xor", "n": 0}, r"toy: n is 0; expected a positive integer"),
        ({"name": "xor", "noise": -1}, r"toy: noise is -1; expected a number >= 0"),
        ({"name": "xor", "classes": 3}, r"toy: classes is only for 'spirals' and 'blobs'"),
        ({"name": "blobs", "classes": 1}, r"toy: classes is 1; expected an integer >= 2"),
    ],
)
def test_toy_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        toy(**kwargs)


def test_employee_bonus_is_generated_from_its_stated_weights():
    t = employee_bonus(n=5000, noise=0.3, seed=0)
    A = np.c_[t.X, np.ones(len(t.X))]
    coef, *_ = np.linalg.lstsq(A, t.y, rcond=None)
    np.testing.assert_allclose(coef[:3], t.true_params["weights"], atol=0.03)
    assert abs(coef[3] - t.true_params["bias"]) < 0.1
    assert t.feature_names == ["performance", "years_of_experience", "projects_completed"]


@pytest.mark.parametrize("make, network", [(insurance, "insurance"), (century, "century")])
def test_classification_tables_come_from_their_networks(make, network):
    t = make(n=4000, seed=0)
    assert t.X.shape == (4000, 4) and set(np.unique(t.y)) == {0, 1}
    assert 0.3 < t.y.mean() < 0.7, "classes should be roughly balanced"
    if network == "insurance":
        p = insurance_network((t.X - INSURANCE_CENTRE) / INSURANCE_SCALE)
    else:
        p = century_network(t.X)
    # Labels are Bernoulli(p): their mean matches p's mean and the true network is a good classifier.
    assert abs(t.y.mean() - p.mean()) < 0.03
    assert np.mean((p > 0.5) == t.y) > 0.75


def test_century_positive_bias_would_make_everyone_score():
    params = {**CENTURY_TRUE, "b2": 1.2}
    X = np.random.default_rng(0).standard_normal((1000, 4)) * 5
    assert century_network(X, params).min() > 0.76


@pytest.mark.parametrize("name, shape, classes", [("digits", (1797, 64), 10), ("breast_cancer", (569, 30), 2),
                                                  ("iris", (150, 4), 3), ("diabetes", (442, 10), None)])
def test_real_datasets(name, shape, classes):
    t = load(name)
    assert t.X.shape == shape and len(t.y) == shape[0]
    if classes:
        assert len(np.unique(t.y)) == classes
    assert len(t.feature_names) == shape[1]


def test_load_unknown_name():
    with pytest.raises(ValueError, match=r"load: name 'mnist' is unknown; expected one of digits"):
        load("mnist")


def test_sample_images():
    imgs = sample_images()
    assert set(imgs) == {"china", "flower"}
    assert all(img.shape == (427, 640, 3) and img.dtype == np.uint8 for img in imgs.values())


def test_mnist1d_generated_offline(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    s = mnist1d()
    assert s.X_train.shape == (3600, 40) and s.X_val.shape == (400, 40) and s.X_test.shape == (1000, 40)
    assert set(np.unique(s.y_test)) == set(range(10))
    assert list(tmp_path.iterdir()) == [], "mnist1d must not write files"


def test_text_corpus(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    text_corpus.cache_clear()
    text = text_corpus()
    assert 1_500_000 < len(text) < 3_000_000
    assert set(text) <= set("".join(chr(i) for i in range(32, 127)) + "\n")
    assert "the" in text and "Return" in text
    assert any(tmp_path.rglob("corpus-*.txt")), "the corpus should be cached on disk"
    text_corpus.cache_clear()
    assert text_corpus() == text  # read back from the cache


def test_split_fractions_and_disjointness():
    X = np.arange(1000).reshape(-1, 1)
    y = np.arange(1000) % 2
    s = split(X, y, seed=0)
    assert (len(s.X_train), len(s.X_val), len(s.X_test)) == (800, 100, 100)
    ids = np.concatenate([s.X_train, s.X_val, s.X_test]).ravel()
    assert sorted(ids) == list(range(1000))
    np.testing.assert_array_equal(s.y_train, s.X_train.ravel() % 2)
    again = split(X, y, seed=0)
    np.testing.assert_array_equal(s.X_test, again.X_test)
    assert not np.array_equal(s.X_test, split(X, y, seed=1).X_test)


def test_split_stratified_keeps_proportions():
    y = np.r_[np.zeros(900), np.ones(100)].astype(int)
    s = split(np.zeros((1000, 1)), y, stratify=True)
    assert s.y_val.mean() == pytest.approx(0.1) and s.y_test.mean() == pytest.approx(0.1)


@pytest.mark.parametrize(
    "fractions", [(0.8, 0.1), (0.8, 0.3, 0.1), (0.0, 0.5, 0.5), (1.2, -0.1, -0.1)]
)
def test_split_bad_fractions(fractions):
    with pytest.raises(ValueError, match=r"split: fractions is .*; expected three non-negative numbers"):
        split(np.zeros((10, 1)), np.zeros(10), fractions)


def test_split_mismatched_lengths_and_tiny_data():
    with pytest.raises(ValueError, match="split: X has 10 rows but y has 9"):
        split(np.zeros((10, 1)), np.zeros(9))
    with pytest.raises(ValueError, match="leave the validation part empty"):
        split(np.zeros((3, 1)), np.zeros(3))


def test_load_dataset_by_name():
    assert load_dataset("moons", n=10)[0].shape == (10, 2)
    assert load_dataset("insurance", n=10).X.shape == (10, 4)
    assert load_dataset("iris").X.shape == (150, 4)
    with pytest.raises(ValueError, match=r"load_dataset: name 'irises' is unknown \(did you mean 'iris'\?\)"):
        load_dataset("irises")


def test_batches_cover_every_index_once_per_epoch():
    rng = np.random.default_rng(0)
    epoch1 = list(batches(10_000, 100, rng=rng))
    assert len(epoch1) == 100 and all(len(b) == 100 for b in epoch1)
    assert sorted(np.concatenate(epoch1)) == list(range(10_000))
    epoch2 = np.concatenate(list(batches(10_000, 100, rng=rng)))
    assert not np.array_equal(np.concatenate(epoch1), epoch2), "each epoch should reshuffle"
    assert [len(b) for b in batches(10, 4)] == [4, 4, 2]
    assert [len(b) for b in batches(10, 4, drop_last=True)] == [4, 4]
    np.testing.assert_array_equal(next(batches(5, 5)), np.arange(5))
    with pytest.raises(ValueError, match="batches: batch_size is 0; expected a positive integer"):
        next(batches(10, 0))


def test_kfold_partitions_the_data():
    folds = list(kfold(103, 5, rng=np.random.default_rng(1)))
    assert len(folds) == 5
    vals = np.concatenate([v for _, v in folds])
    assert sorted(vals) == list(range(103))
    assert {len(v) for _, v in folds} == {20, 21}
    for train, val in folds:
        assert len(np.intersect1d(train, val)) == 0 and len(train) + len(val) == 103
    with pytest.raises(ValueError, match="kfold: k is 1; expected an integer between 2 and n = 10"):
        next(kfold(10, 1))


def test_scikit_image_photos_and_faces_ship_offline():
    from lessons_lib.data.real import PHOTOS, faces, photos

    pics = photos()
    assert list(pics) == list(PHOTOS)
    assert pics["astronaut"].shape == (512, 512, 3) and pics["chelsea"].shape == (300, 451, 3)
    assert pics["brick"].shape == (512, 512) and all(p.dtype == np.uint8 for p in pics.values())
    X, y = faces()
    assert X.shape == (200, 25, 25) and X.min() >= 0 and X.max() <= 1
    assert y.tolist() == [1] * 100 + [0] * 100
    # a face is brighter in its middle than at its left and right edges (the background); a random patch is not
    centre, sides = X[:, :, 8:17].mean(axis=(1, 2)), X[:, :, [0, 1, 23, 24]].mean(axis=(1, 2))
    assert (centre - sides)[y == 1].mean() > (centre - sides)[y == 0].mean() + 0.05


def test_cifar_standin_has_cifars_format_and_a_clean_split():
    from sklearn.linear_model import LogisticRegression

    from lessons_lib.data.real import STANDIN_CLASSES, TRAIN_PART, cifar_standin, standin_region

    s = cifar_standin(n_train=1000, n_val=100, n_test=300, seed=1)
    assert s.X_train.shape == (1000, 3, 32, 32) and s.X_train.dtype == np.uint8
    assert s.X_val.shape == (100, 3, 32, 32) and s.X_test.shape == (300, 3, 32, 32)
    assert np.bincount(s.y_train).tolist() == [100] * 10 and len(STANDIN_CLASSES) == 10
    again = cifar_standin(n_train=1000, n_val=100, n_test=300, seed=1)
    assert np.array_equal(again.X_test, s.X_test) and not np.array_equal(cifar_standin(50, 0, 10, seed=2).X_train,
                                                                          s.X_train[:50])
    grey = [STANDIN_CLASSES.index(n) for n in ("coins", "brick", "grass", "gravel")]
    is_grey = np.isin(s.y_test, grey)
    same = (s.X_test[:, 0] == s.X_test[:, 1]).all(axis=(1, 2)) & (s.X_test[:, 1] == s.X_test[:, 2]).all(axis=(1, 2))
    assert same[is_grey].all() and same[~is_grey].mean() < 0.05  # a colour photo's crop is rarely exactly grey
    for width in (384, 451, 600, 640):  # training and test columns never overlap
        (a, b), (c, d) = standin_region(width, "train"), standin_region(width, "test")
        assert a == 0 and b == c == int(width * TRAIN_PART) and d == width and d - c >= 96
    # learnable from pixels, and the test crops (unseen parts of each picture) are harder than the training ones
    def features(X):
        return X.reshape(len(X), 3, 8, 4, 8, 4).mean(axis=(3, 5)).reshape(len(X), -1) / 255

    model = LogisticRegression(max_iter=200).fit(features(s.X_train), s.y_train)
    train_acc, test_acc = model.score(features(s.X_train), s.y_train), model.score(features(s.X_test), s.y_test)
    assert 0.3 < test_acc < train_acc


def test_sunspots_ship_with_statsmodels():
    from lessons_lib.data.real import sunspots

    years, values = sunspots()
    assert len(years) == len(values) == 309 and years[0] == 1700 and years[-1] == 2008
    assert np.all(np.diff(years) == 1) and values[0] == 5.0 and values.min() >= 0
    # The solar cycle: the strongest autocorrelation beyond lag 5 is near 11 years.
    v = values - values.mean()
    acf = [np.dot(v[:-k], v[k:]) / np.dot(v, v) for k in range(6, 16)]
    assert 6 + int(np.argmax(acf)) in (10, 11, 12)


def test_lm_batch_windows_and_shift():
    import torch

    ids = torch.arange(100, 150)
    x, y = lm_batch(ids, 8, 5, torch.Generator().manual_seed(0))
    assert x.shape == y.shape == (5, 8) and x.dtype == torch.long
    assert torch.equal(y[:, :-1], x[:, 1:])                       # y is x shifted by one token
    assert torch.equal(x[:, 1:] - x[:, :-1], torch.ones(5, 7, dtype=torch.long))  # contiguous windows
    assert (x[:, 0] >= 100).all() and (y[:, -1] <= 149).all()
    starts = torch.cat([lm_batch(ids, 8, 64, torch.Generator().manual_seed(s))[0][:, 0] for s in range(20)]) - 100
    assert starts.min() == 0 and starts.max() == 50 - 8 - 1       # every start is reachable, none runs off the end
    x2, _ = lm_batch(ids, 8, 5, torch.Generator().manual_seed(0))
    assert torch.equal(x, x2)                                      # the generator makes it reproducible
    x1, y1 = lm_batch(torch.arange(2), 1, 3)
    assert torch.equal(x1, torch.zeros(3, 1, dtype=torch.long)) and torch.equal(y1, torch.ones(3, 1, dtype=torch.long))
    with pytest.raises(ValueError, match="lm_batch: ids has 8 tokens; a window of context = 8 needs at least 9"):
        lm_batch(torch.arange(8), 8, 2)
    with pytest.raises(ValueError, match="lm_batch: ids has shape"):
        lm_batch(torch.zeros(2, 9), 4, 2)
    with pytest.raises(ValueError, match="lm_batch: batch_size is 0"):
        lm_batch(ids, 4, 0)


def test_written_dates_pairs_are_real_dates_in_iso_form():
    import datetime

    from lessons_lib.data.toy import ordinal_words, written_dates

    pairs, src_vocab, tgt_vocab = written_dates(300, seed=1)
    assert len(pairs) == 300
    for written, iso in pairs:
        d = datetime.date.fromisoformat(iso)
        assert str(d.year) in written and 1950 <= d.year <= 2049
        assert all(c in src_vocab.stoi for c in written) and all(c in tgt_vocab.stoi for c in iso)
    assert written_dates(300, seed=1)[0] == pairs and written_dates(300, seed=2)[0] != pairs   # seeded
    assert [ordinal_words(d) for d in (1, 2, 3, 11, 20, 21, 30, 31)] == [
        "first", "second", "third", "eleventh", "twentieth", "twenty-first", "thirtieth", "thirty-first"]
    with pytest.raises(ValueError, match="day is 32"):
        ordinal_words(32)
    with pytest.raises(ValueError, match="years"):
        written_dates(3, years=(2000, 1990))
