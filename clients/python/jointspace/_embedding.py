"""EmbeddingService: embed, classify, score."""

from __future__ import annotations

from typing import Any, List, Optional, Sequence

from ._base import Base
from ._convert import ImageSource, InputLike, inputs, model_spec, to_input
from ._gen.jointspace.v1 import embedding_service_pb2 as pb
from .types import LabelScore, Scores

DEFAULT_MODEL = "shapes-clip"


def _rows(values: List[List[float]], as_numpy: bool) -> Any:
    if not as_numpy:
        return values
    try:
        import numpy
    except ImportError:
        raise ImportError("as_numpy=True needs numpy (apt-get install python3-numpy)") from None
    return numpy.asarray(values, dtype=numpy.float32)


class Embeddings(Base):
    def embed(
        self,
        texts: Optional[Sequence[str]] = None,
        images: Optional[Sequence[ImageSource]] = None,
        *,
        model: str = DEFAULT_MODEL,
        version: Optional[int] = None,
        label: Optional[str] = None,
        as_numpy: bool = False,
        timeout: Optional[float] = None,
    ) -> Any:
        """Embeds texts and images (bytes or file paths) into the model's one space.

        Returns one vector per input, texts first, then images: a list of lists of floats,
        or with ``as_numpy=True`` a float32 array of shape (inputs, dimension).
        Without ``version`` or ``label``, the newest available version answers.
        """
        request = pb.EmbedRequest(model=model_spec(model, version, label), inputs=inputs(texts, images))
        response = self._unary(self._embedding.Embed, request, timeout)
        return _rows([list(e.values) for e in response.embeddings], as_numpy)

    def classify(
        self,
        labels: Sequence[str],
        *,
        images: Optional[Sequence[ImageSource]] = None,
        texts: Optional[Sequence[str]] = None,
        templates: Optional[Sequence[str]] = None,
        top_k: int = 0,
        model: str = DEFAULT_MODEL,
        version: Optional[int] = None,
        label: Optional[str] = None,
        timeout: Optional[float] = None,
    ) -> List[List[LabelScore]]:
        """Zero-shot classification of images (bytes or file paths) or texts against ``labels``.

        Returns, per input (texts first, then images), the labels best first (``top_k`` of
        them; 0: all), each with its softmax probability and cosine similarity. Each label
        is put into each of ``templates`` ("a photo of a {}.", ...; the server's four when
        none are given).
        """
        request = pb.ClassifyRequest(
            model=model_spec(model, version, label),
            inputs=inputs(texts, images),
            labels=list(labels),
            templates=list(templates or ()),
            top_k=top_k,
        )
        response = self._unary(self._embedding.Classify, request, timeout)
        return [[LabelScore.from_proto(s) for s in result.scores] for result in response.results]

    def score(
        self,
        queries: Sequence[InputLike],
        candidates: Sequence[InputLike],
        *,
        softmax: bool = False,
        model: str = DEFAULT_MODEL,
        version: Optional[int] = None,
        label: Optional[str] = None,
        timeout: Optional[float] = None,
    ) -> Scores:
        """Cosine similarity of every query to every candidate, of any modality.

        A ``str`` is a text; ``bytes`` or a ``pathlib.Path`` is an image. With ``softmax``,
        also the softmax over the candidates of each query (to rank captions for an image).
        """
        request = pb.ScoreRequest(
            model=model_spec(model, version, label),
            queries=[to_input(q) for q in queries],
            candidates=[to_input(c) for c in candidates],
            softmax=softmax,
        )
        response = self._unary(self._embedding.Score, request, timeout)
        return Scores(
            cosines=[list(row.cosines) for row in response.rows],
            probabilities=[list(row.probabilities) for row in response.rows] if softmax else None,
        )
