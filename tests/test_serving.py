"""The prediction service (appendix I): right answers for good requests, a clear 4xx for every bad one, a 500 with
no traceback when the model fails, and never a crash."""

import json

import numpy as np
import pytest

from lessons_lib.deploy.serving import make_app

LABELS = ["no", "yes"]


def _softmax_model(x):
    z = np.stack([x.sum(1), -x.sum(1)], axis=1)
    e = np.exp(z - z.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


@pytest.fixture
def client():
    return make_app(_softmax_model, n_features=3, labels=LABELS, max_rows=4, max_bytes=2_000).test_client()


def test_health_and_a_good_request(client):
    assert client.get("/health").get_json() == {"status": "ok"}
    r = client.post("/predict", json={"inputs": [[1, 2, 3], [-1, -2, -3.5]]})
    assert r.status_code == 200
    body = r.get_json()
    assert body["labels"] == ["no", "yes"]
    assert np.allclose(body["probabilities"], _softmax_model(np.array([[1, 2, 3], [-1, -2, -3.5]])), atol=1e-6)


@pytest.mark.parametrize("kwargs, status, message", [
    ({"data": "1,2,3", "content_type": "text/csv"}, 415, "send JSON"),
    ({"data": "{not json", "content_type": "application/json"}, 400, "not valid JSON"),
    ({"json": [[1, 2, 3]]}, 400, "got a JSON list"),
    ({"json": {"rows": [[1, 2, 3]]}}, 400, "with keys ['rows']"),
    ({"json": {"inputs": []}}, 400, "non-empty list"),
    ({"json": {"inputs": [1, 2, 3]}}, 400, "row 0 must be a list of 3 numbers, got int"),
    ({"json": {"inputs": [[1, 2]]}}, 400, "row 0 has 2 features; the model expects 3"),
    ({"json": {"inputs": [[1, 2, 3], [1, "2", 3]]}}, 400, "row 1, feature 1 must be a number, got str '2'"),
    ({"json": {"inputs": [[1, True, 3]]}}, 400, "got bool"),
    ({"data": '{"inputs": [[1, NaN, 3]]}', "content_type": "application/json"}, 400, "only finite numbers"),
    ({"json": {"inputs": [[1, 2, 3]] * 5}}, 413, "has 5 rows; this service takes at most 4"),
    ({"data": json.dumps({"inputs": [[1.0, 2.0, 3.0]] * 200}), "content_type": "application/json"}, 413,
     "larger than this service's limit of 2000 bytes"),
])
def test_bad_requests_get_a_clear_4xx(client, kwargs, status, message):
    r = client.post("/predict", **kwargs)
    assert r.status_code == status
    assert r.is_json
    assert message in r.get_json()["error"]


def test_wrong_routes_and_methods_answer_json(client):
    assert client.get("/predict").status_code == 405
    r = client.get("/nowhere")
    assert r.status_code == 404 and "error" in r.get_json()


def test_a_failing_model_is_a_500_without_a_traceback(caplog):
    def broken(x):
        raise RuntimeError("secret internal detail")

    client = make_app(broken, n_features=3, labels=LABELS).test_client()
    r = client.post("/predict", json={"inputs": [[1, 2, 3]]})
    assert r.status_code == 500
    assert "secret" not in r.get_data(as_text=True)
    assert "secret internal detail" in caplog.text            # ... but it is in the service's log


def test_a_model_returning_the_wrong_shape_is_caught():
    client = make_app(lambda x: np.zeros((len(x), 5)), n_features=3, labels=LABELS).test_client()
    assert client.post("/predict", json={"inputs": [[1, 2, 3]]}).status_code == 500
