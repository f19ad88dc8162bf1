"""``livemig-evidence merge``: one migrations.json/html from the files of several runs.

    livemig-evidence merge results/                  # results/pabot_results/*/migrations.json
    livemig-evidence merge a/migrations.json b/migrations.json --output merged/

pabot runs merge by themselves (each process merges into the top output directory); this
command is for runs made separately, or to rebuild the summary after editing files.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .store import JSON_NAME, load, merge_documents, write_files


def _inputs(paths: list[str]) -> list[Path]:
    found: list[Path] = []
    for text in paths:
        path = Path(text)
        if path.is_dir():
            found += sorted(path.glob(f"pabot_results/*/{JSON_NAME}"))
            if not found and (path / JSON_NAME).exists():
                found.append(path / JSON_NAME)
        elif path.is_file():
            found.append(path)
        else:
            raise SystemExit(f"livemig-evidence: {text} is neither a directory nor a file")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="livemig-evidence", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    merge = sub.add_parser("merge", help="merge migrations.json files into one summary")
    merge.add_argument("inputs", nargs="+", help="output directories or migrations.json files")
    merge.add_argument("--output", help="directory to write to (default: the first input dir)")
    args = parser.parse_args(argv)
    files = _inputs(args.inputs)
    if not files:
        print("livemig-evidence: no migrations.json found", file=sys.stderr)
        return 1
    merged = merge_documents(load(f) for f in files)
    first = Path(args.inputs[0])
    target = Path(args.output) if args.output else (first if first.is_dir() else first.parent)
    for path in write_files(target, merged):
        print(path)
    print(f"{len(merged['migrations'])} migrations from {len(files)} file(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
