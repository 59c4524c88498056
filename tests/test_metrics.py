"""Metrics against scikit-learn on random and edge cases, AUC as a ranking probability, clear errors."""

import itertools
import re
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics as skm
from sklearn.datasets import load_breast_cancer
from sklearn.exceptions import UndefinedMetricWarning

from lessons_lib.functional.metrics import (
    accuracy,
    auc_by_ranking,
    average_precision,
    confusion_matrix,
    f1,
    perplexity,
    precision,
    precision_recall_curve,
    recall,
    roc_auc,
    roc_curve,
    top_k_accuracy,
)

OURS = (precision, recall, f1)
AVERAGES = ["macro", "micro", "weighted", None]
ZERO_DIVISIONS = [0.0, 1.0, np.nan]


@pytest.fixture(autouse=True)
def quiet_sklearn():
    """scikit-learn warns about undefined metrics in the edge cases that these tests seek out."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        warnings.filterwarnings("ignore", "A single label was found", UserWarning)
        yield


def _random_labels(rng, n_classes, n=None):
    n = n if n is not None else int(rng.integers(1, 25))
    return rng.integers(0, n_classes, n), rng.integers(0, n_classes, n)


def _assert_prf_like_sklearn(y_true, y_pred, **kwargs):
    """Our precision, recall and F1 equal sklearn's (one call of precision_recall_fscore_support gives all three)."""
    theirs = skm.precision_recall_fscore_support(y_true, y_pred, **kwargs)[:3]
    for fn, expected in zip(OURS, theirs, strict=True):
        _assert_same(fn(y_true, y_pred, **kwargs), expected)


def _assert_same(ours, theirs):
    np.testing.assert_allclose(np.asarray(ours, dtype=float), np.asarray(theirs, dtype=float), rtol=1e-12, atol=1e-12)


def _two_class_cases(rng, count=100):
    """Random binary labels with scores: continuous, heavily tied (few distinct values), and small."""
    for i in range(count):
        n = int(rng.integers(2, 40))
        y = rng.integers(0, 2, n)
        y[:2] = [0, 1]  # both classes present
        rng.shuffle(y)
        scores = rng.standard_normal(n) + y if i % 3 == 0 else rng.integers(0, 4, n) / 3  # ties when i % 3
        yield y, scores


# ---- confusion matrix and accuracy --------------------------------------------------------------------

def test_confusion_matrix_matches_sklearn_on_random_labels():
    rng = np.random.default_rng(0)
    for _ in range(100):
        k = int(rng.integers(1, 6))
        y_true, y_pred = _random_labels(rng, k)
        np.testing.assert_array_equal(confusion_matrix(y_true, y_pred), skm.confusion_matrix(y_true, y_pred))
        labels = rng.permutation(k + 2)  # any order, with classes that never occur
        np.testing.assert_array_equal(confusion_matrix(y_true, y_pred, labels=labels),
                                      skm.confusion_matrix(y_true, y_pred, labels=labels))
        assert accuracy(y_true, y_pred) == pytest.approx(skm.accuracy_score(y_true, y_pred), abs=1e-15)


def test_confusion_matrix_binary_layout_rows_true_columns_predicted():
    y_true = [0, 0, 0, 1, 1, 1, 1]
    y_pred = [0, 1, 1, 0, 1, 1, 1]  # TN 1, FP 2, FN 1, TP 3
    np.testing.assert_array_equal(confusion_matrix(y_true, y_pred), [[1, 2], [1, 3]])
    np.testing.assert_array_equal(confusion_matrix(y_true, y_pred, labels=[1, 0]), [[3, 1], [2, 1]])


def test_confusion_matrix_string_labels_and_torch_inputs():
    y_true, y_pred = ["cat", "dog", "dog", "emu"], ["dog", "dog", "cat", "emu"]
    np.testing.assert_array_equal(confusion_matrix(y_true, y_pred), skm.confusion_matrix(y_true, y_pred))
    t, p = torch.tensor([0, 1, 2, 2]), torch.tensor([0, 2, 2, 1])
    np.testing.assert_array_equal(confusion_matrix(t, p), skm.confusion_matrix(t.numpy(), p.numpy()))
    assert accuracy(t, p) == 0.5


def test_accuracy_imbalance_trap():
    y_true = np.r_[np.zeros(99, int), 1]  # 99 healthy, 1 sick
    always_healthy = np.zeros(100, int)
    assert accuracy(y_true, always_healthy) == pytest.approx(0.99)
    assert recall(y_true, always_healthy) == 0.0


# ---- precision, recall, F1 ----------------------------------------------------------------------------

@pytest.mark.parametrize("average", AVERAGES)
@pytest.mark.parametrize("zero_division", ZERO_DIVISIONS)
def test_multiclass_prf_matches_sklearn(average, zero_division):
    rng = np.random.default_rng(1)
    for _ in range(25):
        y_true, y_pred = _random_labels(rng, int(rng.integers(2, 6)))
        _assert_prf_like_sklearn(y_true, y_pred, average=average, zero_division=zero_division)


@pytest.mark.parametrize("zero_division", ZERO_DIVISIONS)
def test_binary_prf_matches_sklearn(zero_division):
    rng = np.random.default_rng(2)
    for _ in range(40):
        y_true, y_pred = _random_labels(rng, 2)  # includes cases with one class only
        _assert_prf_like_sklearn(y_true, y_pred, average="binary", zero_division=zero_division)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("abc"), st.sampled_from("abc")), min_size=1, max_size=15),
       st.sampled_from(["binary", *AVERAGES]))
def test_prf_property_matches_sklearn(pairs, average):
    y_true, y_pred = map(list, zip(*pairs, strict=True))
    labels = sorted(set(y_true) | set(y_pred))
    if average == "binary" and len(labels) > 2:
        return  # rejected by both; see test_errors
    chosen = {"pos_label": labels[-1]} if average == "binary" else {}
    _assert_prf_like_sklearn(y_true, y_pred, average=average, zero_division=0.0, **chosen)


@pytest.mark.parametrize("zero_division", ZERO_DIVISIONS)
def test_class_never_predicted(zero_division):
    y_true, y_pred = [0, 1, 2, 2], [0, 0, 2, 2]  # class 1 is never predicted: its precision is 0/0
    per_class = precision(y_true, y_pred, average=None, zero_division=zero_division)
    np.testing.assert_array_equal(per_class, [0.5, zero_division, 1.0])
    np.testing.assert_array_equal(recall(y_true, y_pred, average=None), [1.0, 0.0, 1.0])
    np.testing.assert_allclose(f1(y_true, y_pred, average=None, zero_division=zero_division), [2 / 3, 0.0, 1.0])
    for average in AVERAGES:
        _assert_prf_like_sklearn(y_true, y_pred, average=average, zero_division=zero_division)


@pytest.mark.parametrize("zero_division", ZERO_DIVISIONS)
def test_all_one_class(zero_division):
    negatives = np.zeros(8, int)  # the positive class 1 occurs nowhere: every binary score is 0/0
    _assert_prf_like_sklearn(negatives, negatives, average="binary", zero_division=zero_division)
    for ours in OURS:
        _assert_same(ours(negatives, negatives, zero_division=zero_division), zero_division)
        assert ours(negatives + 1, negatives + 1) == 1.0  # all positive and all found
        assert ours(negatives, negatives, average="macro") == 1.0  # class 0 alone, perfectly predicted


def test_perfect_predictions():
    y = np.random.default_rng(3).integers(0, 4, 50)
    np.testing.assert_array_equal(confusion_matrix(y, y), np.diag(np.bincount(y)))
    assert accuracy(y, y) == 1.0
    for fn in (precision, recall, f1):
        for average in ("macro", "micro", "weighted"):
            assert fn(y, y, average=average) == 1.0


def test_micro_precision_and_recall_equal_accuracy():
    rng = np.random.default_rng(4)
    for _ in range(20):
        y_true, y_pred = _random_labels(rng, 4, n=30)
        acc = accuracy(y_true, y_pred)
        assert precision(y_true, y_pred, average="micro") == pytest.approx(acc)
        assert recall(y_true, y_pred, average="micro") == pytest.approx(acc)


def test_f1_is_the_harmonic_mean():
    y_true = np.ones(100, int)
    y_pred = np.r_[1, np.zeros(99, int)]  # one positive found, and correctly: P = 1, R = 0.01
    assert precision(y_true, y_pred) == 1.0 and recall(y_true, y_pred) == 0.01
    assert f1(y_true, y_pred) == pytest.approx(2 * 1.0 * 0.01 / 1.01)
    assert round(f1(y_true, y_pred), 4) == 0.0198
    rng = np.random.default_rng(5)
    for _ in range(50):
        y_true, y_pred = _random_labels(rng, 2, n=20)
        p, r = precision(y_true, y_pred), recall(y_true, y_pred)
        if p + r > 0:
            assert f1(y_true, y_pred) == pytest.approx(2 * p * r / (p + r))


def test_binary_with_string_labels_and_pos_label():
    y_true = ["spam", "ham", "spam", "spam", "ham"]
    y_pred = ["spam", "spam", "ham", "spam", "ham"]
    for pos in ("spam", "ham"):
        _assert_prf_like_sklearn(y_true, y_pred, average="binary", pos_label=pos)


# ---- ROC, AUC and the precision-recall curve ----------------------------------------------------------

@pytest.mark.parametrize("drop_intermediate", [True, False])
def test_roc_curve_matches_sklearn(drop_intermediate):
    for y, scores in _two_class_cases(np.random.default_rng(6)):
        ours = roc_curve(y, scores, drop_intermediate=drop_intermediate)
        theirs = skm.roc_curve(y, scores, drop_intermediate=drop_intermediate)
        for a, b in zip(ours, theirs, strict=True):
            assert a.shape == b.shape
            np.testing.assert_allclose(a, b, rtol=1e-12)


def test_roc_curve_default_drops_collinear_points_like_sklearn():
    y, scores = [0, 0, 0, 1, 1, 1], [0.1, 0.2, 0.3, 0.7, 0.8, 0.9]  # a perfect ranking: one corner at (0, 1)
    fpr, tpr, thresholds = roc_curve(y, scores)
    np.testing.assert_array_equal(fpr, [0, 0, 0, 1])
    np.testing.assert_array_equal(tpr, [0, 1 / 3, 1, 1])
    np.testing.assert_array_equal(thresholds, [np.inf, 0.9, 0.7, 0.1])
    assert len(roc_curve(y, scores, drop_intermediate=False)[0]) == 7


def test_roc_auc_and_ranking_probability_match_sklearn():
    for y, scores in _two_class_cases(np.random.default_rng(7)):
        expected = skm.roc_auc_score(y, scores)
        assert roc_auc(y, scores) == pytest.approx(expected, abs=1e-12)
        assert auc_by_ranking(y, scores) == pytest.approx(expected, abs=1e-12)


def _auc_by_counting_pairs(y, scores):
    """The definition, pair by pair: P(positive scored above negative) + 0.5 P(tie)."""
    pos, neg = scores[y == 1], scores[y == 0]
    wins = sum((p > n) + 0.5 * (p == n) for p, n in itertools.product(pos, neg))
    return wins / (len(pos) * len(neg))


def test_auc_is_the_probability_of_ranking_a_positive_above_a_negative():
    rng = np.random.default_rng(8)
    y = rng.integers(0, 2, 60)
    for scores in (rng.standard_normal(60) + y, rng.integers(0, 3, 60).astype(float)):  # without and with ties
        exact = _auc_by_counting_pairs(y, scores)
        assert roc_auc(y, scores) == pytest.approx(exact, abs=1e-12)
        assert auc_by_ranking(y, scores) == pytest.approx(exact, abs=1e-12)
    # Monte Carlo: draw random (positive, negative) pairs and count how often the positive wins
    scores = rng.standard_normal(60) + y
    pos = rng.choice(scores[y == 1], 200_000)
    neg = rng.choice(scores[y == 0], 200_000)
    assert np.mean(pos > neg) == pytest.approx(roc_auc(y, scores), abs=0.005)


def test_auc_edge_values():
    y = np.array([0, 0, 1, 1])
    assert roc_auc(y, [0.1, 0.2, 0.8, 0.9]) == 1.0  # perfect ranking
    assert roc_auc(y, [0.9, 0.8, 0.2, 0.1]) == 0.0  # perfectly reversed
    assert roc_auc(y, [0.5, 0.5, 0.5, 0.5]) == 0.5  # all tied
    assert auc_by_ranking(y, [0.5, 0.5, 0.5, 0.5]) == 0.5
    assert roc_auc([0, 1, 0, 1], [1, 1, 0, 0]) == 0.5  # one tie per class, half credit each


def test_curves_on_the_breast_cancer_data():
    data = load_breast_cancer()
    y, scores = data.target, -data.data[:, 0]  # class 1 = benign; a smaller mean radius suggests benign
    assert roc_auc(y, scores) == pytest.approx(skm.roc_auc_score(y, scores), abs=1e-12)
    assert roc_auc(y, scores) > 0.9
    for a, b in zip(precision_recall_curve(y, scores), skm.precision_recall_curve(y, scores), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    assert average_precision(y, scores) == pytest.approx(skm.average_precision_score(y, scores), abs=1e-12)


@pytest.mark.parametrize("drop_intermediate", [True, False])
def test_precision_recall_curve_and_average_precision_match_sklearn(drop_intermediate):
    for y, scores in _two_class_cases(np.random.default_rng(9)):
        ours = precision_recall_curve(y, scores, drop_intermediate=drop_intermediate)
        theirs = skm.precision_recall_curve(y, scores, drop_intermediate=drop_intermediate)
        for a, b in zip(ours, theirs, strict=True):
            assert a.shape == b.shape
            np.testing.assert_allclose(a, b, rtol=1e-12)
        assert average_precision(y, scores) == pytest.approx(skm.average_precision_score(y, scores), abs=1e-12)


def test_precision_recall_curve_with_only_positives_and_pos_label():
    scores = [0.3, 0.1, 0.3, 0.9]
    for a, b in zip(precision_recall_curve([1, 1, 1, 1], scores), skm.precision_recall_curve([1, 1, 1, 1], scores),
                    strict=True):
        np.testing.assert_allclose(a, b)
    y = np.array(["neg", "pos", "neg", "pos"])
    for a, b in zip(precision_recall_curve(y, scores, pos_label="pos"),
                    skm.precision_recall_curve(y, scores, pos_label="pos"), strict=True):
        np.testing.assert_allclose(a, b)
    assert roc_auc(y, scores, pos_label="pos") == skm.roc_auc_score(y == "pos", scores)


def test_curves_accept_torch_tensors():
    y, scores = torch.tensor([0, 1, 1, 0, 1]), torch.tensor([0.2, 0.7, 0.4, 0.4, 0.9], requires_grad=True)
    assert roc_auc(y, scores) == pytest.approx(skm.roc_auc_score(y.numpy(), scores.detach().numpy()))


# ---- top-k accuracy and perplexity --------------------------------------------------------------------

def test_top_k_accuracy_matches_sklearn():
    rng = np.random.default_rng(10)
    for _ in range(30):
        n, c = int(rng.integers(3, 30)), int(rng.integers(3, 8))
        y = rng.integers(0, c, n)
        y[:3] = [0, 1, 2]  # at least three classes, so that sklearn treats it as multiclass
        scores = rng.standard_normal((n, c))
        for k in range(1, c + 1):
            expected = skm.top_k_accuracy_score(y, scores, k=k, labels=np.arange(c))
            assert top_k_accuracy(y, scores, k=k) == pytest.approx(expected, abs=1e-15)
        assert top_k_accuracy(y, scores, k=1) == accuracy(y, scores.argmax(axis=1))


def test_top_k_accuracy_ties_go_to_the_lower_class_index_like_argmax():
    rng = np.random.default_rng(12)
    for _ in range(30):
        n, c = int(rng.integers(3, 30)), int(rng.integers(3, 8))
        y = rng.integers(0, c, n)
        y[:3] = [0, 1, 2]
        scores = rng.integers(0, 3, (n, c)).astype(float)  # many ties
        assert top_k_accuracy(y, scores, k=1) == accuracy(y, scores.argmax(axis=1))
        for k in range(1, c + 1):
            # sklearn ranks tied classes the other way round: reversing the class order makes the rules agree
            expected = skm.top_k_accuracy_score(c - 1 - y, scores[:, ::-1], k=k, labels=np.arange(c))
            assert top_k_accuracy(y, scores, k=k) == pytest.approx(expected, abs=1e-15)


def test_top_k_accuracy_small_example():
    scores = np.array([[0.1, 0.5, 0.4],   # true 2: second best
                       [0.7, 0.2, 0.1],   # true 0: best
                       [0.4, 0.4, 0.2]])  # true 1: tied best with class 0, which comes first
    y = [2, 0, 1]
    assert [top_k_accuracy(y, scores, k) for k in (1, 2, 3)] == pytest.approx([1 / 3, 1.0, 1.0])
    assert top_k_accuracy(torch.tensor(y), torch.tensor(scores), k=2) == 1.0


@pytest.mark.parametrize("vocab", [2, 10, 1000])
def test_perplexity_of_a_uniform_model_is_the_vocabulary_size(vocab):
    logits = torch.zeros(50, vocab, dtype=torch.float64)  # every token equally likely
    targets = torch.randint(0, vocab, (50,), generator=torch.Generator().manual_seed(0))
    nll = torch.nn.functional.cross_entropy(logits, targets, reduction="none")
    assert perplexity(nll) == pytest.approx(vocab)
    assert perplexity(nll.mean()) == pytest.approx(vocab)
    assert perplexity(log_probs=np.full(7, -np.log(vocab))) == pytest.approx(vocab)


def test_perplexity_is_exp_of_the_mean_nll():
    rng = np.random.default_rng(11)
    logits = rng.standard_normal((40, 12))
    targets = rng.integers(0, 12, 40)
    log_probs = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    token_log_probs = log_probs[np.arange(40), targets]
    expected = np.exp(-token_log_probs.mean())
    assert perplexity(-token_log_probs) == pytest.approx(expected, rel=1e-12)
    assert perplexity(log_probs=token_log_probs) == pytest.approx(expected, rel=1e-12)
    assert perplexity(-token_log_probs.reshape(4, 10)) == pytest.approx(expected, rel=1e-12)  # any shape
    assert perplexity(np.zeros(5)) == 1.0  # a model sure of every right token
    assert perplexity([1000.0]) == np.inf  # overflow gives inf, not an error


# ---- errors --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("call, message", [
    (lambda: precision(np.zeros(10), np.zeros(9)), "precision: y_true has 10 labels but y_pred has 9"),
    (lambda: accuracy([], []), "accuracy: y_true is empty; expected at least one sample"),
    (lambda: recall([[0, 1]], [[0, 1]]), "recall: y_true must be 1-D (one entry per sample), got shape (1, 2)"),
    (lambda: roc_auc([1, 1, 1], [0.2, 0.4, 0.6]), "roc_auc: y_true has only one class (1); AUC is undefined"),
    (lambda: roc_curve([0, 0], [0.2, 0.4]), "roc_curve: y_true has only one class (0); the ROC curve is undefined"),
    (lambda: auc_by_ranking([0, 1, 2], [0.1, 0.2, 0.3]),
     "auc_by_ranking: y_true must hold two classes (positive and negative), got [0, 1, 2]"),
    (lambda: roc_auc([0, 1], [0.2]), "roc_auc: y_true has 2 labels but scores has 1 entries"),
    (lambda: roc_auc([0, 1], [0.2, np.nan]), "roc_auc: scores must be finite, but scores[1] is nan"),
    (lambda: roc_auc(["a", "b"], [0.2, 0.3]), "roc_auc: pos_label=1 is not one of the classes in y_true ['a', 'b']"),
    (lambda: precision_recall_curve([0, 0], [0.2, 0.4]),
     "precision_recall_curve: y_true has no positive samples (pos_label=1); recall is undefined"),
    (lambda: top_k_accuracy([0, 1], np.zeros((2, 10)), k=11), "top_k_accuracy: k is 11 but scores have 10 classes"),
    (lambda: top_k_accuracy([0, 1], np.zeros((2, 10)), k=0), "top_k_accuracy: k is 0 but scores have 10 classes"),
    (lambda: top_k_accuracy([0, 10], np.zeros((2, 10)), k=1),
     "top_k_accuracy: y_true contains 10, but scores have 10 classes (expected 0 to 9)"),
    (lambda: top_k_accuracy([0, 1], np.zeros(10), k=1), "top_k_accuracy: scores must be 2-D (N, C)"),
    (lambda: top_k_accuracy([0, 1, 2], np.zeros((2, 4))), "top_k_accuracy: y_true has 3 labels but scores has 2 rows"),
    (lambda: confusion_matrix([0, 1, 2], [0, 7, 2], labels=[0, 1, 2]),
     "confusion_matrix: y_pred contains 7, which is not in labels [0, 1, 2]"),
    (lambda: confusion_matrix([0, 5], [0, 1], labels=[0, 1]),
     "confusion_matrix: y_true contains 5, which is not in labels [0, 1]"),
    (lambda: confusion_matrix([0, 1], [0, 1], labels=[0, 1, 1]), "confusion_matrix: labels must not repeat"),
    (lambda: f1([0, 1, 2], [0, 1, 2]), "f1: average='binary' needs two classes, but the labels are [0, 1, 2]"),
    (lambda: f1([0, 2], [0, 2]), "f1: pos_label=1 is not one of the labels [0, 2]"),
    (lambda: recall([0, 1], [0, 1], average="mean"), "recall: average is 'mean'; expected one of"),
    (lambda: precision([0, 1], [0, 1], zero_division=0.5), "precision: zero_division is 0.5; expected 0.0, 1.0 or nan"),
    (lambda: perplexity([-0.5, 1.0]), "perplexity: nll must be >= 0, got min -0.5; if these are log-probabilities"),
    (lambda: perplexity(log_probs=[0.5]), "perplexity: log_probs must be <= 0"),
    (lambda: perplexity(), "perplexity: pass exactly one of nll and log_probs"),
])
def test_errors(call, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        call()


def test_predicted_labels_agree_for_arrays_and_tensors():
    from lessons_lib.functional.metrics import output_accuracy, predicted_labels

    scores = np.array([[0.1, 2.0, 2.0], [3.0, -1.0, 0.0], [0.0, 0.0, 0.5]])  # a tie goes to the first maximum
    logits = np.array([-0.2, 0.0, 1.5])  # one logit per sample: label 1 only where it is > 0
    for outputs, expected in ((scores, [1, 0, 2]), (logits, [0, 0, 1]), (logits[:, None], [0, 0, 1])):
        for form in (outputs, torch.tensor(outputs, requires_grad=True)):
            got = predicted_labels(form)
            assert isinstance(got, np.ndarray) and got.dtype == np.int64 and got.tolist() == expected
    assert output_accuracy(torch.tensor([1, 0, 0]), torch.tensor(scores)) == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match=r"predicted_labels: outputs has shape \(1, 2, 3\); expected \(N, C\)"):
        predicted_labels(torch.zeros(1, 2, 3))
