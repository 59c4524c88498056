"""A model behind a small HTTP endpoint (Flask), answering bad requests with a clear 4xx and never crashing
(appendix I).

The service has two routes:

- ``GET /health`` -> ``{"status": "ok"}`` (what a load balancer polls);
- ``POST /predict`` with a JSON body ``{"inputs": [[x_1, ..., x_F], ...]}`` (one row per example) ->
  ``{"labels": [...], "probabilities": [[...], ...]}``.

Everything a client can get wrong is checked before the model sees it, and answered with a JSON error that says
what was received and what was expected: a body that is not JSON (415 or 400), a missing ``inputs`` field, rows
that are not lists of numbers, a wrong number of features, NaN or infinite values (400), too many rows or too many
bytes (413). An exception inside the model becomes a 500 with a short message, logged, not a traceback sent to
the client. Test it with Flask's test client (``make_app(...).test_client()``), no port or network needed.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable

import numpy as np

__all__ = ["make_app"]

log = logging.getLogger(__name__)


class _BadRequest(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


def _rows(payload, n_features: int, max_rows: int) -> np.ndarray:
    """The validated (N, F) float32 array from a decoded JSON body, or a _BadRequest that says what is wrong."""
    if not isinstance(payload, dict) or "inputs" not in payload:
        got = f"an object with keys {sorted(payload)}" if isinstance(payload, dict) else f"a JSON {type(payload).__name__}"
        raise _BadRequest(400, f'the body must be a JSON object {{"inputs": [[...], ...]}}, got {got}')
    rows = payload["inputs"]
    if not isinstance(rows, list) or not rows:
        raise _BadRequest(400, f'"inputs" must be a non-empty list of rows, got {type(rows).__name__}')
    if len(rows) > max_rows:
        raise _BadRequest(413, f'"inputs" has {len(rows)} rows; this service takes at most {max_rows} per request')
    for i, row in enumerate(rows):
        if not isinstance(row, list):
            raise _BadRequest(400, f"row {i} must be a list of {n_features} numbers, got {type(row).__name__}")
        if len(row) != n_features:
            raise _BadRequest(400, f"row {i} has {len(row)} features; the model expects {n_features}")
        for j, value in enumerate(row):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise _BadRequest(400, f"row {i}, feature {j} must be a number, got {type(value).__name__} {value!r}")
            if not math.isfinite(value):
                raise _BadRequest(400, f"row {i}, feature {j} is {value}; only finite numbers are accepted")
    return np.asarray(rows, dtype=np.float32)


def make_app(predict_proba: Callable[[np.ndarray], np.ndarray], *, n_features: int, labels: list[str],
             max_rows: int = 256, max_bytes: int = 1_000_000):
    """A Flask app serving ``predict_proba`` ((N, F) float32 -> (N, C) probabilities, C = len(labels)).

    ``max_rows`` bounds the rows of one request and ``max_bytes`` its body (Flask answers 413 beyond it), so one
    client cannot make the service allocate without limit."""
    from flask import Flask, jsonify, request
    from werkzeug.exceptions import HTTPException

    app = Flask("lessons_lib.serving")
    app.config["MAX_CONTENT_LENGTH"] = max_bytes

    def error(status: int, message: str):
        return jsonify({"error": message}), status

    @app.errorhandler(HTTPException)
    def http_error(e):                                  # 404, 405, 413 from Flask itself: JSON too
        if e.code == 413:
            return error(413, f"the request body is larger than this service's limit of {max_bytes} bytes")
        return error(e.code, e.description)

    @app.get("/health")
    def health():
        return jsonify({"status": "ok"})

    @app.post("/predict")
    def predict():
        if not request.is_json:
            return error(415, f"send JSON (Content-Type: application/json), got {request.content_type!r}")
        payload = request.get_json(silent=True)
        if payload is None:
            return error(400, "the body is not valid JSON")
        try:
            x = _rows(payload, n_features, max_rows)
        except _BadRequest as bad:
            return error(bad.status, bad.message)
        try:
            p = np.asarray(predict_proba(x))
        except Exception:                               # the model failed: log it, tell the client briefly
            log.exception("predict_proba failed on a request of shape %s", x.shape)
            return error(500, "the model failed on this input; the error is in the service's log")
        if p.shape != (x.shape[0], len(labels)):
            log.error("predict_proba returned shape %s for %d rows and %d labels", p.shape, x.shape[0], len(labels))
            return error(500, "the model returned an output of the wrong shape; the error is in the service's log")
        return jsonify({"labels": [labels[k] for k in p.argmax(axis=1)], "probabilities": p.round(6).tolist()})

    return app
