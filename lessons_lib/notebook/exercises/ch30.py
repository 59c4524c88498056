"""Checkers for the exercises of Chapter 30 (the transformer and how it is trained).

- :func:`check_attention_mask`: the boolean (N, T, T) self-attention mask of a padded batch, True where query i
  may attend to key j: key j is a real token (not ``pad_id``) and, with ``causal=True``, j <= i;
- :func:`check_shift_right`: the decoder's input under teacher forcing, ``[bos] + y[:-1]`` for every row;
- :func:`check_top_k_probs`: the sampling distribution of a language model's next token, softmax(logits / T) over
  the k largest logits only (the rest get probability 0).

The references are written here in NumPy and cross-checked in ``tests/test_exercises_ch30.py`` against the
library (:func:`lessons_lib.functional.attention.causal_mask`, the masks inside :class:`Transformer`, and
:meth:`GPT.generate`'s top-k filter). The hints recognise the usual slips by recomputing them: the mask with the
opposite convention (True = blocked), padding applied to the queries (rows) instead of the keys (columns), the
future instead of the past, one of the two conditions forgotten; the shift to the left, the last token kept, a
roll that wraps the last token to the front; the temperature multiplied instead of divided, top-k without
renormalising, the k smallest logits kept, the temperature ignored.
"""

from __future__ import annotations

import numpy as np

from lessons_lib.notebook.checking import CheckResult, compare, same_values

__all__ = ["attention_mask_reference", "check_attention_mask", "check_shift_right", "check_top_k_probs",
           "shift_right_reference", "top_k_probs_reference"]


def _run(name, fn, reference, cases, describe, hints, compare_fn) -> CheckResult:
    return compare(fn, reference, cases, name=name, describe=describe, hints=hints, compare_fn=compare_fn,
                   numbered=True)


def _as_array(got, dtype):
    try:
        arr = np.asarray(got.detach().cpu().numpy() if hasattr(got, "detach") else got)
        return arr.astype(dtype)
    except (TypeError, ValueError):
        return None


def _exact(what, dtype):
    def compare(got, expected):
        arr = _as_array(got, dtype)
        if arr is None or arr.dtype == object:
            return f"got a {type(got).__name__}; expected an array of {what}"
        if arr.shape != expected.shape:
            return f"got shape {arr.shape}, expected {expected.shape}"
        wrong = np.argwhere(arr != expected)
        if wrong.size:
            where = tuple(int(i) for i in wrong[0])
            return f"{len(wrong)} entries differ, first at index {where}: got {arr[where]}, expected {expected[where]}"
        return None
    return compare


# ------------------------------------------------------------------------------------ attention mask


def attention_mask_reference(ids, pad_id, causal):
    """(N, T) ids -> (N, T, T) bool: True where query i may attend to key j."""
    ids = np.asarray(ids)
    T = ids.shape[1]
    mask = np.broadcast_to((ids != pad_id)[:, None, :], (ids.shape[0], T, T))   # (N, 1, T) keys -> (N, T, T)
    if causal:
        mask = mask & np.tril(np.ones((T, T), dtype=bool))                       # key j <= query i
    return np.array(mask)


def _mask_variant(ids, pad_id, causal, *, pad_on="keys", future=False, use_pad=True, use_causal=True):
    T = ids.shape[1]
    real = ids != pad_id
    mask = np.ones((ids.shape[0], T, T), dtype=bool)
    if use_pad:
        mask &= real[:, None, :] if pad_on == "keys" else real[:, :, None]
    if causal and use_causal:
        mask &= np.triu(np.ones((T, T), dtype=bool)) if future else np.tril(np.ones((T, T), dtype=bool))
    return mask


def _mask_cases():
    rng = np.random.default_rng(30)
    cases = [{"ids": np.array([[5, 7, 9, 0, 0]]), "pad_id": 0, "causal": True},
             {"ids": np.array([[5, 7, 9, 0, 0]]), "pad_id": 0, "causal": False}]
    for n, t, causal in [(3, 6, True), (2, 4, False), (4, 7, True)]:
        lengths = rng.integers(1, t + 1, n)
        ids = rng.integers(2, 20, (n, t))
        ids[np.arange(t)[None, :] >= lengths[:, None]] = 1                       # right padding with pad_id = 1
        cases.append({"ids": ids, "pad_id": 1, "causal": causal})
    return cases


def _describe_mask(case):
    return f"ids = {case['ids'].tolist()}, pad_id = {case['pad_id']}, causal = {case['causal']}"


def _mask_hints():
    def matches(case, got, **slip):
        arr = _as_array(got, bool)
        return arr is not None and arr.shape == case["ids"].shape + case["ids"].shape[1:] and \
            np.array_equal(arr, _mask_variant(**case, **slip))

    def inverted(case, got, expected):
        arr = _as_array(got, bool)
        if arr is not None and arr.shape == expected.shape and np.array_equal(arr, ~expected):
            return ("your mask is the opposite convention (True = blocked, as in nn.MultiheadAttention's attn_mask); "
                    "here True means 'may attend'")

    def rows(case, got, expected):
        if matches(case, got, pad_on="queries"):
            return ("you masked the padded QUERIES (rows); padding must be removed from the KEYS (columns): no real "
                    "token may read a pad, whatever the pad's own row says")

    def future(case, got, expected):
        if matches(case, got, future=True):
            return "that lets each query see the future (np.triu); the causal part is key j <= query i (np.tril)"

    def no_pad(case, got, expected):
        if matches(case, got, use_pad=False):
            return "the padding is not masked: key j must also be a real token, ids[:, j] != pad_id"

    def no_causal(case, got, expected):
        if matches(case, got, use_causal=False):
            return "with causal=True, query i may only see keys 0..i as well (and the padding rule still applies)"

    return [inverted, rows, future, no_pad, no_causal]


def check_attention_mask(fn) -> CheckResult:
    """Check ``fn(ids, pad_id, causal)`` -> (N, T, T) boolean mask, True where query i may attend to key j."""
    return _run("check_attention_mask", fn, attention_mask_reference, _mask_cases(), _describe_mask, _mask_hints(),
                _exact("booleans", bool))


# -------------------------------------------------------------------------------------- shift right


def shift_right_reference(y, bos_id):
    """(N, T) targets -> (N, T) decoder inputs: ``bos_id`` then y[:, :-1]."""
    y = np.asarray(y)
    return np.concatenate([np.full((y.shape[0], 1), bos_id, dtype=y.dtype), y[:, :-1]], axis=1)


def _shift_cases():
    rng = np.random.default_rng(31)
    cases = [{"y": np.array([[7, 4, 9, 2]]), "bos_id": 1}]
    for n, t in [(3, 5), (2, 1), (4, 8)]:
        cases.append({"y": rng.integers(3, 30, (n, t)), "bos_id": 1})
    return cases


def _shift_hints():
    def same(got, want):
        arr = _as_array(got, np.int64)
        return arr is not None and arr.shape == want.shape and np.array_equal(arr, want)

    def kept_last(case, got, expected):
        y, b = case["y"], case["bos_id"]
        if same(got, np.concatenate([np.full((len(y), 1), b), y], axis=1)):
            return "the input must have the same length as the target: drop y's last token (it is only ever predicted)"

    def left(case, got, expected):
        y = case["y"]
        if same(got, y[:, 1:]) or same(got, np.concatenate([y[:, 1:], np.full((len(y), 1), case["bos_id"])], axis=1)):
            return "that shifts to the LEFT; the decoder input is delayed by one step: bos first, then y[:, :-1]"

    def rolled(case, got, expected):
        if same(got, np.roll(case["y"], 1, axis=1)):
            return "np.roll wraps the last token round to the front; put bos_id in column 0 instead"

    def unchanged(case, got, expected):
        if same(got, case["y"]):
            return "the input is the target itself, so the model could copy the answer; shift it right by one"

    return [kept_last, left, rolled, unchanged]


def check_shift_right(fn) -> CheckResult:
    """Check ``fn(y, bos_id)`` -> the (N, T) decoder input for the (N, T) target ``y``."""
    describe = lambda c: f"y = {c['y'].tolist()}, bos_id = {c['bos_id']}"  # noqa: E731
    return _run("check_shift_right", fn, shift_right_reference, _shift_cases(), describe, _shift_hints(),
                _exact("integer token ids", np.int64))


# ------------------------------------------------------------------------------------- top-k sampling


def _softmax(z):
    z = z - np.max(z, axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def top_k_probs_reference(logits, k, temperature):
    """(V,) logits -> (V,) probabilities: softmax(logits / temperature) over the k largest, zero elsewhere."""
    z = np.asarray(logits, dtype=float) / temperature
    kth = np.sort(z)[-k]
    return _softmax(np.where(z >= kth, z, -np.inf))


def _top_k_cases():
    rng = np.random.default_rng(32)
    cases = [{"logits": np.array([2.0, 1.0, 0.5, -1.0, 3.0]), "k": 2, "temperature": 1.0},
             {"logits": np.array([2.0, 1.0, 0.5, -1.0, 3.0]), "k": 3, "temperature": 0.5}]
    for v, k, t in [(10, 4, 2.0), (8, 8, 0.7), (12, 1, 1.3), (20, 5, 0.25)]:
        cases.append({"logits": rng.normal(size=v) * 2, "k": k, "temperature": t})
    cases.append({"logits": np.array([800.0, 799.0, -800.0, 0.0]), "k": 2, "temperature": 1.0})   # large logits
    return cases


def _top_k_hints():
    def close(got, want):
        return same_values(got, want, rtol=1e-6, atol=1e-9)

    def times(case, got, expected):
        if case["temperature"] != 1 and close(got, top_k_probs_reference(case["logits"] * case["temperature"] ** 2,
                                                                       case["k"], case["temperature"])):
            return "divide the logits by the temperature (a low temperature sharpens); you multiplied"

    def no_renorm(case, got, expected):
        p = _softmax(np.asarray(case["logits"]) / case["temperature"])
        keep = p >= np.sort(p)[-case["k"]]
        if case["k"] < len(p) and close(got, np.where(keep, p, 0.0)):
            return "after zeroing all but the k largest, the kept probabilities must sum to 1 again: renormalise"

    def smallest(case, got, expected):
        z = np.asarray(case["logits"], dtype=float) / case["temperature"]
        kept = np.where(z <= np.sort(z)[case["k"] - 1], z, -np.inf)
        if case["k"] < len(z) and close(got, _softmax(kept)):
            return "you kept the k SMALLEST logits; keep the k largest (np.sort ascending puts them last)"

    def no_temperature(case, got, expected):
        if case["temperature"] != 1 and close(got, top_k_probs_reference(case["logits"], case["k"], 1.0)):
            return "the temperature is ignored: divide the logits by it before the softmax"

    def overflow(case, got, expected):
        arr = _as_array(got, float)
        if arr is not None and arr.dtype != object and np.isnan(arr).any():
            return "exp overflows for large logits: subtract the largest logit before exponentiating"

    return [overflow, times, no_renorm, smallest, no_temperature]


def _compare_probs(got, expected):
    arr = _as_array(got, float)
    if arr is None or arr.dtype == object:
        return f"got a {type(got).__name__}; expected an array of probabilities"
    if arr.shape != expected.shape:
        return f"got shape {arr.shape}, expected {expected.shape}"
    if np.isnan(arr).any():
        return "the result contains nan"
    if not np.allclose(arr, expected, rtol=1e-6, atol=1e-9):
        worst = int(np.argmax(np.abs(arr - expected)))
        return (f"entry {worst} is {arr[worst]:.6g}, expected {expected[worst]:.6g} "
                f"(yours sum to {arr.sum():.6g})")
    return None


def check_top_k_probs(fn) -> CheckResult:
    """Check ``fn(logits, k, temperature)`` -> (V,) next-token probabilities after temperature and top-k."""
    describe = lambda c: (f"logits = {np.round(c['logits'], 3).tolist()}, k = {c['k']}, "  # noqa: E731
                          f"temperature = {c['temperature']}")
    return _run("check_top_k_probs", fn, top_k_probs_reference, _top_k_cases(), describe, _top_k_hints(), _compare_probs)
