"""Evidence of the migrations a run drove: records, timelines, HTML, JSON, statistics, SLA.

- `record.py`: `MigrationRecord`, the one results model (format version, `as_dict()`).
- `timeline.py`: exact timelines from the fake's history; estimated ones on a real cloud.
- `recorder.py`: `EvidenceRecorder`, the `ctx.evidence` API keyword areas report through.
- `store.py`: the records of a run, `migrations.json`/`migrations.html`, pabot merging.
- `html.py`: the log block and the summary page, from the same dictionaries.
- `stats.py`, `sla.py`: per-phase statistics and SLA criteria as data.
"""

from .record import FORMAT_VERSION, MigrationRecord, TimelinePoint
from .recorder import EvidenceRecorder

__all__ = ["FORMAT_VERSION", "EvidenceRecorder", "MigrationRecord", "TimelinePoint"]
