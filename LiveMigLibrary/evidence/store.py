"""The records of one Robot Framework run, and the files written from them.

Every library instance of the process adds its records to the run's `RunEvidence`; when an
instance closes (its suite ended) the run's `migrations.json` and `migrations.html` are
rewritten in the output directory, so the last close leaves all of them.

Under pabot every process writes its own files in its own output directory
(`<outputdir>/pabot_results/<n>/`) and also merges them, under a file lock, into
`<outputdir>/migrations.json` and `migrations.html`, keyed by process: after the run the
top directory holds every migration of every process. `livemig-evidence merge` does the
same for any set of files afterwards.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .html import summary_page
from .record import FORMAT_VERSION, MigrationRecord, iso

JSON_NAME = "migrations.json"
HTML_NAME = "migrations.html"
LOCK_NAME = ".migrations.lock"


class RunEvidence:
    """The migration records of one run of Robot Framework in this process."""

    def __init__(self) -> None:
        self.records: list[MigrationRecord] = []
        self.metadata: dict[str, str] = {}
        self.output_dir: Path | None = None
        self.pabot_index: str | None = None
        self._lock = threading.Lock()

    def add(self, record: MigrationRecord) -> None:
        with self._lock:
            if record not in self.records:
                self.records.append(record)

    def remove(self, record: MigrationRecord) -> None:
        with self._lock:
            if record in self.records:
                self.records.remove(record)

    def dicts(self) -> list[dict]:
        with self._lock:
            records = list(self.records)
        return [r.as_dict() for r in records]

    def document(self) -> dict[str, Any]:
        label = f"pabot process {self.pabot_index}" if self.pabot_index else "robot"
        return document(
            self.dicts(),
            [
                {
                    "label": label,
                    "process": os.getpid(),
                    "pabot_index": self.pabot_index,
                    "output_dir": str(self.output_dir) if self.output_dir else None,
                    "metadata": dict(self.metadata),
                }
            ],
        )

    def write(self) -> list[Path]:
        """Writes the files; under pabot also merges them into the top output directory."""
        if self.output_dir is None:
            return []
        doc = self.document()
        written = write_files(self.output_dir, doc)
        top = pabot_top_dir(self.output_dir)
        if top is not None:
            written += merge_into(top, doc)
        return written


def generator() -> str:
    from .. import __version__

    return f"LiveMigLibrary {__version__}"


def document(records: list[dict], runs: list[dict]) -> dict[str, Any]:
    return {
        "format_version": FORMAT_VERSION,
        "generator": generator(),
        "generated_at": iso(dt.datetime.now(dt.UTC)),
        "runs": runs,
        "migrations": records,
    }


def write_files(directory: Path, doc: dict) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    json_path = directory / JSON_NAME
    html_path = directory / HTML_NAME
    _atomic_write(json_path, json.dumps(doc, indent=1, sort_keys=False) + "\n")
    _atomic_write(html_path, summary_page(doc))
    return [json_path, html_path]


def _atomic_write(path: Path, text: str) -> None:
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temp.write_text(text, encoding="utf-8")
    os.replace(temp, path)


def merge_documents(documents: Iterable[dict]) -> dict:
    """One document holding the migrations and runs of all; a record seen twice (same
    record_id) is kept once, the later copy winning."""
    runs: list[dict] = []
    records: dict[str, dict] = {}
    for doc in documents:
        version = doc.get("format_version")
        if version != FORMAT_VERSION:
            raise ValueError(
                f"migrations.json format_version {version!r} cannot be merged; "
                f"this library reads version {FORMAT_VERSION}"
            )
        for run in doc.get("runs") or []:
            key = (run.get("process"), run.get("pabot_index"), run.get("output_dir"))
            runs = [
                r for r in runs
                if (r.get("process"), r.get("pabot_index"), r.get("output_dir")) != key
            ] + [run]  # fmt: skip
        for record in doc.get("migrations") or []:
            records[record["record_id"]] = record
    ordered = sorted(records.values(), key=lambda r: _start_of(r))
    return document(ordered, runs)


def _start_of(record: dict) -> str:
    timeline = record.get("timeline") or []
    if timeline:
        return timeline[0].get("cloud_time") or ""
    return record.get("requested_wall_time") or ""


def load(path: Path) -> dict:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def pabot_top_dir(output_dir: Path) -> Path | None:
    """`<top>` when the output directory is pabot's `<top>/pabot_results/<n>`."""
    if output_dir.parent.name == "pabot_results":
        return output_dir.parent.parent
    return None


def merge_into(top: Path, doc: dict) -> list[Path]:
    """Merges this process's document into `<top>/migrations.json` under a file lock."""
    top.mkdir(parents=True, exist_ok=True)
    with _locked(top / LOCK_NAME):
        existing = []
        path = top / JSON_NAME
        if path.exists():
            with contextlib.suppress(ValueError, OSError):
                existing = [load(path)]
        merged = merge_documents(existing + [doc])
        return write_files(top, merged)


@contextlib.contextmanager
def _locked(path: Path):
    with open(path, "a+") as handle:
        try:
            import fcntl
        except ImportError:  # not POSIX: pabot's processes may race; merge afterwards
            yield
            return
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# -- the run of this process --------------------------------------------------------------

_RUNS: dict[int, tuple[object, RunEvidence]] = {}
_RUNS_LOCK = threading.Lock()


def current_run() -> RunEvidence:
    """The `RunEvidence` of the Robot Framework run in progress (one per `robot.run`)."""
    try:
        from robot.running.context import EXECUTION_CONTEXTS

        top = EXECUTION_CONTEXTS.top
        token = top.suite if top is not None else None
    except Exception:
        token = None
    with _RUNS_LOCK:
        entry = _RUNS.get(id(token))
        if entry is None or entry[0] is not token:
            if len(_RUNS) > 8:  # earlier runs of a long-lived process (tests): forget them
                _RUNS.clear()
            entry = (token, RunEvidence())  # the token is kept alive, so its id stays unique
            _RUNS[id(token)] = entry
        return entry[1]
