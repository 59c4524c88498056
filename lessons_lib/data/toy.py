"""Toy 2-D classification sets made in code, seeded: XOR, moons, circles, spirals, blobs.
"""

from __future__ import annotations

import numpy as np

from lessons_lib.validate import integer, number, unknown

# ------------------------------------------------------------------------------------------- checks






# ------------------------------------------------------------------------------------------- toy sets


def toy(name: str, n: int = 200, noise: float = 0.1, seed: int = 0, classes: int | None = None):
    """A 2-D classification toy set: returns ``X`` (n, 2) float64 and ``y`` (n,) int64 labels.

    name:    ``xor`` (label 1 where the two coordinates have opposite signs), ``moons``, ``circles``,
             ``spirals`` (``classes`` arms, default 2, each winding ``SPIRAL_TURNS`` = 1.5 times round the
             centre), ``blobs`` (``classes`` Gaussian clusters, default 3).
    noise:   standard deviation of the Gaussian noise added to the points.
    """
    makers = {"xor": _xor, "moons": _moons, "circles": circles, "spirals": _spirals, "blobs": _blobs}
    if name not in makers:
        raise unknown("toy: name", name, makers)
    n = integer("toy", "n", n, minimum=1)
    noise = float(number("toy", "noise", noise, 0))
    if classes is not None and name not in ("spirals", "blobs"):
        raise ValueError(f"toy: classes is only for 'spirals' and 'blobs', not {name!r}")
    if classes is not None and (not isinstance(classes, (int, np.integer)) or classes < 2):
        raise ValueError(f"toy: classes is {classes!r}; expected an integer >= 2")
    rng = np.random.default_rng(seed)
    X, y = makers[name](n, noise, rng, classes)
    return X.astype(np.float64), y.astype(np.int64)


def _xor(n, noise, rng, _):
    X = rng.uniform(-1, 1, size=(n, 2))
    y = (X[:, 0] * X[:, 1] < 0).astype(int)
    return X + noise * rng.standard_normal((n, 2)), y


def _moons(n, noise, rng, _):
    y = np.arange(n) % 2
    t = rng.uniform(0, np.pi, n)
    X = np.where(y[:, None] == 0, np.c_[np.cos(t), np.sin(t)], np.c_[1 - np.cos(t), 0.5 - np.sin(t)])
    return X + noise * rng.standard_normal((n, 2)), y


def circles(n, noise, rng, _):
    y = np.arange(n) % 2
    t = rng.uniform(0, 2 * np.pi, n)
    radius = np.where(y == 0, 1.0, 0.5)
    X = radius[:, None] * np.c_[np.cos(t), np.sin(t)]
    return X + noise * rng.standard_normal((n, 2)), y


SPIRAL_TURNS = 1.5  # how many times each spiral arm winds around the centre


def _spirals(n, noise, rng, classes):
    k = classes or 2
    y = np.arange(n) % k
    t = rng.uniform(0.0, 1.0, n)  # how far along its arm a point lies: 0 at the centre, 1 at the outer end
    r = 0.05 + 0.95 * t  # the distance from the centre grows along the arm
    angle = 2 * np.pi * (y / k + SPIRAL_TURNS * t)  # arm y starts a fraction y / k of a turn round
    X = r[:, None] * np.c_[np.cos(angle), np.sin(angle)]
    return X + noise * rng.standard_normal((n, 2)), y


def _blobs(n, noise, rng, classes):
    k = classes or 3
    y = np.arange(n) % k
    centres = 2.0 * np.c_[np.cos(2 * np.pi * np.arange(k) / k), np.sin(2 * np.pi * np.arange(k) / k)]
    return centres[y] + noise * rng.standard_normal((n, 2)), y


# ------------------------------------------------------------------------------------- written dates

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")
_UNITS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth")
_TEENS = ("tenth", "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth", "seventeenth",
          "eighteenth", "nineteenth")
DATE_FORMATS = ("the {ord} of {month} {year}", "{month} {ord}, {year}", "{day} {month} {year}", "{month} {day}, {year}",
                "{day} {mon} {year}", "{mon} {day} {year}")
DATE_YEARS = (1950, 2049)


def ordinal_words(day: int) -> str:
    """1 -> 'first', 21 -> 'twenty-first', 30 -> 'thirtieth' (days of the month, 1 to 31)."""
    day = integer("ordinal_words", "day", day, minimum=1)
    if day > 31:
        raise ValueError(f"ordinal_words: day is {day}; expected a day of the month, 1 to 31")
    if day < 10:
        return _UNITS[day - 1]
    if day < 20:
        return _TEENS[day - 10]
    tens = {2: "twent", 3: "thirt"}[day // 10]
    return f"{tens}ieth" if day % 10 == 0 else f"{tens}y-{_UNITS[day % 10 - 1]}"


def written_dates(n: int, seed: int = 0, formats=DATE_FORMATS, years=DATE_YEARS):
    """``n`` random calendar dates written out in English, each with its ISO 8601 form, and the character
    vocabularies of both sides.

    Returns ``(pairs, source_vocab, target_vocab)``: ``pairs`` is a list of ``(written, iso)`` strings such as
    ``("the third of March 1997", "1997-03-03")`` or ``("Mar 3 1997", "1997-03-03")``, a format drawn uniformly
    from ``formats`` (placeholders ``{ord}`` ordinal words, ``{day}`` digits, ``{month}`` the name, ``{mon}`` its
    first three letters, ``{year}``); the date is uniform over the days of the years ``years`` (inclusive), leap
    days included. The vocabularies (:class:`lessons_lib.data.text.Vocabulary`, ``<pad>`` = 0 and ``<unk>`` = 1)
    cover every character any format can produce, so they do not depend on the sample; the target's adds
    ``<bos>`` (id 2) and ``<eos>`` (id 3) for the decoder.
    """
    import datetime

    from lessons_lib.data.text import Vocabulary

    n = integer("written_dates", "n", n, minimum=1)
    if isinstance(formats, str) or not formats:
        raise ValueError(f"written_dates: formats is {formats!r}; expected a non-empty sequence of format strings")
    first, last = (integer("written_dates", "years", y) for y in years)
    if not 1 <= first <= last <= 9999:
        raise ValueError(f"written_dates: years is {years!r}; expected (first, last) with 1 <= first <= last <= 9999")
    rng = np.random.default_rng(seed)
    start = datetime.date(first, 1, 1).toordinal()
    days = datetime.date(last, 12, 31).toordinal() - start + 1
    pairs = []
    for offset, k in zip(rng.integers(0, days, n), rng.integers(0, len(formats), n)):
        d = datetime.date.fromordinal(start + int(offset))
        month = MONTHS[d.month - 1]
        written = formats[k].format(ord=ordinal_words(d.day), day=d.day, month=month, mon=month[:3], year=d.year)
        pairs.append((written, d.isoformat()))
    letters = "".join(MONTHS) + "".join(_UNITS + _TEENS) + "twentythirtyieth" + "the of"
    source_vocab = Vocabulary(sorted(set(letters + "0123456789 ,-")))
    target_vocab = Vocabulary(["<bos>", "<eos>", *"0123456789-"])
    return pairs, source_vocab, target_vocab
