"""Compares the outputs of the cross-language scenario (clients/crosscheck/README.md).

    python3 clients/crosscheck/compare.py java.json python.json ...

The first file is the reference. Every output must hold the same vectors, label scores and
search hits as the reference to within 1e-5, in the same order; hits (or labels) whose scores
are within 1e-5 of each other may swap places. Exits 1 and lists every difference otherwise.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Dict, List

TOLERANCE = 1e-5
INGESTED = 500
TOP_K = 10


def close(a: float, b: float) -> bool:
    return abs(a - b) <= TOLERANCE


def tie_groups(scores: List[float]) -> List[range]:
    """Runs of consecutive positions whose scores are within the tolerance of the run's first."""
    groups: List[range] = []
    start = 0
    for i in range(1, len(scores) + 1):
        if i == len(scores) or not close(scores[i], scores[start]):
            groups.append(range(start, i))
            start = i
    return groups


def compare_ranked(what: str, key: str, score: str, ref: List[Dict[str, Any]], got: List[Dict[str, Any]],
                   extra: List[str]) -> List[str]:
    """Same length, the same score at every rank, and the same keys within each run of tied
    scores (a run cut off by the end of the list only needs the same scores)."""
    if len(ref) != len(got):
        return [f"{what}: {len(got)} entries, the reference has {len(ref)}"]
    problems = []
    for rank, (r, g) in enumerate(zip(ref, got)):
        for field in [score, *extra]:
            if not close(r[field], g[field]):
                problems.append(f"{what}[{rank}].{field}: {g[field]!r}, the reference has {r[field]!r}")
    groups = tie_groups([r[score] for r in ref])
    for n, group in enumerate(groups):
        cut_off = n == len(groups) - 1 and len(ref) == TOP_K and len(group) > 1
        ref_keys = sorted(ref[i][key] for i in group)
        got_keys = sorted(got[i][key] for i in group)
        if ref_keys != got_keys and not cut_off:
            problems.append(f"{what}[{group.start}:{group.stop}]: {got_keys}, the reference has {ref_keys}")
    return problems


def compare(ref: Dict[str, Any], got: Dict[str, Any]) -> List[str]:
    problems = []
    for kind in ("text", "image"):
        r, g = ref["embed"][kind], got["embed"][kind]
        if len(r) != len(g):
            problems.append(f"embed.{kind}: dimension {len(g)}, the reference has {len(r)}")
            continue
        worst = max(range(len(r)), key=lambda i: abs(r[i] - g[i]))
        if not close(r[worst], g[worst]):
            problems.append(f"embed.{kind}[{worst}]: {g[worst]!r}, the reference has {r[worst]!r}")
    problems += compare_ranked("classify", "label", "probability", ref["classify"], got["classify"], ["cosine"])
    problems += compare_ranked("search", "id", "score", ref["search"], got["search"], [])
    if got["ingested"] != ref["ingested"]:
        problems.append(f"ingested: {got['ingested']}, the reference has {ref['ingested']}")
    return problems


def sane(out: Dict[str, Any]) -> List[str]:
    """What every output must show whatever the others say."""
    problems = []
    if not out["embed"]["text"] or not out["embed"]["image"]:
        problems.append("embed: an empty vector")
    if not out["classify"] or out["classify"][0]["label"] != "red star":
        problems.append(f"classify: the best label is not 'red star': {out['classify'][:1]}")
    if out["ingested"] != INGESTED:
        problems.append(f"ingested: {out['ingested']}, not {INGESTED}")
    if len(out["search"]) != TOP_K:
        problems.append(f"search: {len(out['search'])} hits, not {TOP_K}")
    for hit in out["search"]:
        n = int(hit["id"].split("-")[1])
        if n % 8 != 2 or n < 100:  # color blue and n >= 100
            problems.append(f"search: {hit['id']} does not match the filter")
    return problems


def main(paths: List[str]) -> int:
    outputs = {Path(p).stem: json.loads(Path(p).read_text()) for p in paths}
    names = list(outputs)
    reference = names[0]
    failed = False
    for name in names:
        problems = sane(outputs[name])
        if name != reference:
            problems += compare(outputs[reference], outputs[name])
        status = "same as " + reference if name != reference else "reference"
        if problems:
            failed = True
            status = f"{len(problems)} difference(s)"
        print(f"{name:8s} {status}")
        for problem in problems[:20]:
            print(f"         {problem}")
    hits = ", ".join(f"{h['id']} {h['score']:.5f}" for h in outputs[reference]["search"][:3])
    print(f"{len(names)} outputs compared; top hits: {hits}, ...")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
