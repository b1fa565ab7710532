"""The cross-language scenario (clients/crosscheck/README.md) through the Python client.

    python3 clients/python/tests/crosscheck.py ADDRESS COLLECTION    (from the repository root)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from jointspace import Client, F, NotFound  # noqa: E402

COLORS = ["red", "green", "blue", "yellow", "purple", "orange", "white", "black"]
SHAPES = ["circle", "square", "triangle", "star", "hexagon", "cross"]
SIZES = ["small", "large"]
NOUNS = ["photo", "picture", "image", "rendering", "drawing"]


def item(i: int) -> dict:
    color, shape = COLORS[i % 8], SHAPES[(i // 8) % 6]
    text = f"a {NOUNS[(i // 96) % 5]} of a {SIZES[(i // 48) % 2]} {color} {shape}"
    return {"id": f"item-{i:03d}", "text": text, "metadata": {"color": color, "shape": shape, "n": i}}


def main(address: str, collection: str) -> None:
    with Client(address, timeout=60.0) as client:
        text, image = client.embed(texts=["a small red star"], images=["docs/samples/red-star.png"],
                                   model="shapes-clip")
        scores = client.classify(["red star", "blue circle", "green hexagon"],
                                 images=["docs/samples/red-star.png"], model="shapes-clip")[0]
        try:
            client.delete_collection(collection)
        except NotFound:
            pass
        client.create_collection(collection, model="shapes-clip")
        ingested = client.ingest(collection, (item(i) for i in range(500))).committed
        hits = client.search(collection, text="a blue star", top_k=10, ef_search=400,
                             filter=F.eq("color", "blue") & F.range("n", gte=100))
        client.delete_collection(collection)
    json.dump({
        "embed": {"text": list(text), "image": list(image)},
        "classify": [{"label": s.label, "probability": s.probability, "cosine": s.cosine} for s in scores],
        "ingested": ingested,
        "search": [{"id": h.id, "score": h.score} for h in hits],
    }, sys.stdout)
    print()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
