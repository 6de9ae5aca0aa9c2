#!/usr/bin/env python3
"""The migration-success figure: every corpus application (tests/corpus/catalog.py) through
inventory, analyze and containerize (validated against the running original), with no edit.

    python3 benchmarks/migration.py [--app NAME ...] [--keep] [--json]

Prints ``N of M migrated with no edit`` and the reason for each failure; exits 1 unless M of M.
Needs what the tests need: the Debian packages and images of scripts/setup.sh (and
scripts/setup-dotnet.sh for .NET), a Docker engine, root.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.corpus.catalog import by_name  # noqa: E402
from tests.corpus.migrate import migrate_all  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--app", action="append", help="only this corpus app (repeatable)")
    parser.add_argument("--keep", action="store_true", help="keep every workspace and image")
    parser.add_argument("--json", action="store_true", help="print the outcomes as JSON")
    args = parser.parse_args()
    outcomes = migrate_all(by_name(args.app), keep=args.keep)
    migrated = sum(o.migrated for o in outcomes)
    if args.json:
        print(json.dumps({"migrated": migrated, "total": len(outcomes),
                          "apps": [dataclasses.asdict(o) for o in outcomes]}, indent=2))
    else:
        print(f"{migrated} of {len(outcomes)} migrated with no edit")
        for outcome in outcomes:
            print(outcome.line())
            if not outcome.migrated:
                print(f"       workspace: {outcome.workspace}")
    return 0 if migrated == len(outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
