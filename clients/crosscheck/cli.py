"""The cross-language scenario (clients/crosscheck/README.md) through the command line,
`./jointspace ... --output json`.

    python3 clients/crosscheck/cli.py ADDRESS COLLECTION    (from the repository root)
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

COLORS = ["red", "green", "blue", "yellow", "purple", "orange", "white", "black"]
SHAPES = ["circle", "square", "triangle", "star", "hexagon", "cross"]
SIZES = ["small", "large"]
NOUNS = ["photo", "picture", "image", "rendering", "drawing"]


def jointspace(address: str, *args: str, check: bool = True) -> dict:
    done = subprocess.run(["./jointspace", *args, "--address", address, "--output", "json"],
                          stdout=subprocess.PIPE, text=True, check=check)
    return json.loads(done.stdout) if done.returncode == 0 and done.stdout.strip() else {}


def main(address: str, collection: str) -> None:
    embedded = jointspace(address, "embed", "--model", "shapes-clip", "--text", "a small red star",
                          "--image", "docs/samples/red-star.png")
    classified = jointspace(address, "classify", "docs/samples/red-star.png", "--model", "shapes-clip",
                            "--labels", "red star,blue circle,green hexagon")
    jointspace(address, "collections", "delete", collection, check=False)
    jointspace(address, "collections", "create", collection, "--model", "shapes-clip")
    with tempfile.TemporaryDirectory() as folder:
        items = Path(folder) / "items.jsonl"
        with open(items, "w") as out:
            for i in range(500):
                color, shape = COLORS[i % 8], SHAPES[(i // 8) % 6]
                text = f"a {NOUNS[(i // 96) % 5]} of a {SIZES[(i // 48) % 2]} {color} {shape}"
                out.write(json.dumps({"id": f"item-{i:03d}", "text": text,
                                      "metadata": {"color": color, "shape": shape, "n": i}}) + "\n")
        ingested = jointspace(address, "ingest", collection, str(items))
    hits = jointspace(address, "search", collection, "--text", "a blue star", "--filter",
                      'color = "blue" and n >= 100', "--top-k", "10", "--ef-search", "400")
    jointspace(address, "collections", "delete", collection)
    json.dump({
        "embed": {"text": embedded["embeddings"][0]["values"], "image": embedded["embeddings"][1]["values"]},
        "classify": [{"label": s["label"], "probability": s.get("probability", 0.0), "cosine": s.get("cosine", 0.0)}
                     for s in classified["results"][0]["scores"]],
        "ingested": ingested["committed"],
        "search": [{"id": h["id"], "score": h.get("score", 0.0)} for h in hits.get("hits", [])],
    }, sys.stdout)
    print()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
