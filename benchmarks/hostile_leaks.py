#!/usr/bin/env python3
"""The leak figure: how many of the secrets planted in the hostile corpus a2c keeps out.

Runs every case of fixtures/hostile/workflow/ through the whole workflow (tests/hostile_corpus.py:
inventory, analyze, containerize, extract, generate app-deployment, and with a Docker engine a
real build that is saved and started) and prints "N of M planted secrets kept out", then each
leak (case, canary, where it was found) and each case's other problems (crashes, injections).

    python3 benchmarks/hostile_leaks.py [--no-docker] [--case NAME ...] [--workers 3] [--json]

Exit status 0 when nothing leaked and no case had a problem, else 1.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests import hostile_corpus  # noqa: E402 - after the path above


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-docker", action="store_true", help="Artifacts, archives and outputs only; no images.")
    parser.add_argument("--case", action="append", help="Run only this case (repeatable).")
    parser.add_argument("--workers", type=int, default=None, help="Cases run side by side (default 3, or A2C_CORPUS_WORKERS).")
    parser.add_argument("--json", action="store_true", help="Print the results as JSON.")
    args = parser.parse_args()
    docker = None
    if not args.no_docker:
        why = hostile_corpus.Docker.available()
        if why:
            print(f"no image checks: {why}", file=sys.stderr)
        else:
            docker = hostile_corpus.Docker()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="a2c-hostile-") as tmp:
        results = hostile_corpus.run_corpus(Path(tmp), docker, args.case, workers=args.workers)
    kept, planted, leaks = hostile_corpus.leak_figure(results.values())
    failing = [r for r in results.values() if r.problems]
    if args.json:
        print(json.dumps({"keptOut": kept, "planted": planted,
                          "leaks": [{"case": c, "canary": k, "foundIn": w} for c, k, w in leaks],
                          "cases": {r.name: [str(p) for p in r.problems] for r in results.values()}}, indent=2))
    else:
        print(f"{kept} of {planted} planted secrets kept out"
              f" ({len(results)} cases, {len(failing)} with problems, {time.monotonic() - started:.0f} s,"
              f" images {'checked' if docker else 'not checked'})")
        for case, canary, where in leaks:
            print(f"  leak {case}: {canary} in {len(where)} place(s): " + "; ".join(where[:4])
                  + (" …" if len(where) > 4 else ""))
        for result in failing:
            others = [p for p in hostile_corpus._dedupe(result.problems) if p.kind != "leak"]
            for problem in others:
                print(f"  {result.name}: {problem}")
    return 0 if not failing else 1


if __name__ == "__main__":
    sys.exit(main())
