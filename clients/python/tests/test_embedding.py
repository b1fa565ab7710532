"""EmbeddingService and ModelService through the client."""

import math

import pytest

from conftest import SAMPLES
from jointspace import Client

RED_STAR = SAMPLES / "red-star.png"
BLUE_CIRCLE = SAMPLES / "blue-circle.png"


def test_embed_text_and_image_into_one_space(client: Client):
    text, image = client.embed(texts=["a small red star"], images=[RED_STAR], version=2)
    assert len(text) == len(image) == 64
    assert math.isclose(sum(v * v for v in image), 1.0, rel_tol=1e-4)  # normalized
    assert len(client.embed(texts=["a red star"], version=1)[0]) == 32


def test_embed_image_bytes_and_label(client: Client):
    client.set_label("shapes-clip", "pytest_embed", 2)
    from_path = client.embed(images=[RED_STAR], label="pytest_embed")
    from_bytes = client.embed(images=[RED_STAR.read_bytes()], version=2)
    assert from_path[0] == pytest.approx(from_bytes[0], abs=1e-6)


def test_embed_as_numpy(client: Client):
    numpy = pytest.importorskip("numpy")
    vectors = client.embed(texts=["a red star", "a blue circle"], version=2, as_numpy=True)
    assert isinstance(vectors, numpy.ndarray)
    assert vectors.shape == (2, 64) and vectors.dtype == numpy.float32


def test_classify_red_star(client: Client):
    labels = ["red star", "red circle", "blue star", "blue circle", "green hexagon"]
    [star, circle] = client.classify(labels, images=[RED_STAR, BLUE_CIRCLE], top_k=2, version=2)
    assert star[0].label == "red star" and star[0].probability > 0.5
    assert circle[0].label == "blue circle"
    assert len(star) == 2 and star[0].probability >= star[1].probability


def test_score_ranks_captions_for_an_image(client: Client):
    captions = ["a small blue circle on the right", "a small yellow triangle at the top"]
    scores = client.score([BLUE_CIRCLE], captions, softmax=True, version=2)
    [cosines] = scores.cosines
    assert cosines[0] > cosines[1]
    assert sum(scores.probabilities[0]) == pytest.approx(1.0, abs=1e-5)


def test_models_and_labels(client: Client):
    names = [m.name for m in client.list_models()]
    assert "shapes-clip" in names
    status = client.model_status("shapes-clip")
    assert {v.version for v in status.versions} >= {1, 2}
    assert client.model_metadata("shapes-clip", version=2).embedding_dimension == 64

    client.set_label("shapes-clip", "pytest_history", 1, changed_by="pytest")
    client.set_label("shapes-clip", "pytest_history", split={1: 90, 2: 10}, changed_by="pytest")
    history = client.label_history("shapes-clip", "pytest_history")
    assert [dict(c.to.weights) for c in history] == [{1: 1}, {1: 90, 2: 10}]
    assert history[-1].changed_by == "pytest"
