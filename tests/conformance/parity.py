"""Parity snapshots: the corpus's answers recorded from real Nova, replayed against the fake.

LocalStack's parity tests are the model: every call of ``corpus.py`` is sent over HTTP
to real Nova and Placement (the harness), its answer is normalised into a digest
(status, error key and message, key sets, states, counts; ids, times, host names and
URLs replaced by placeholders) and committed under ``snapshots/``. The default test run
replays the same calls against the embedded fake and compares digests, with no Nova
install (``test_parity.py``).

Re-record from real Nova (needs ``.venv-nova``, see ``launcher.py``)::

    .venv/bin/python -m tests.conformance.parity record      # all scenarios
    .venv/bin/python -m tests.conformance.parity record NAME  # one scenario
    .venv/bin/python -m tests.conformance.parity summary     # calls, matches, differences

``--clouds-yaml=PATH`` records from a harness that is already running.

``record`` keeps each call's ``difference`` note (kind ``to-fix`` or ``deliberate``,
with its reason) and marks calls where the fake now differs and no note exists as
``to-fix``, so nothing is hidden. The replay fails on every difference except the
``deliberate`` keys: a ``to-fix`` note documents a failure, it does not excuse it.
"""

from __future__ import annotations

import json
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"
FORMAT = 1
TIMEOUT = 30.0  # seconds per HTTP call
RECORDED_FROM = "nova 34.0.0, openstack-placement 16.0.0 (tests/conformance/harness.py)"
UNFIXED_REASON = "the fake answers unlike Nova here; to be fixed in the fake"

# Values kept verbatim (after placeholder substitution): states, names, codes, messages.
KEEP = {
    "status",
    "state",
    "OS-EXT-STS:vm_state",
    "OS-EXT-STS:task_state",
    "OS-EXT-STS:power_state",
    "migration_type",
    "action",
    "event",
    "result",
    "binary",
    "zone",
    "forced_down",
    "disabled_reason",
    "locked",
    "locked_reason",
    "code",
    "message",
    "title",
    "detail",
    "source_compute",
    "dest_compute",
    "source_node",
    "dest_node",
    "host",
    "OS-EXT-SRV-ATTR:host",
    "OS-EXT-SRV-ATTR:hypervisor_hostname",
    "hypervisor_hostname",
    "hypervisor_status",
    "hypervisor_state",
    "tags",
    "name",
    "reservation_id",
    "OS-EXT-SRV-ATTR:reservation_id",
    "VCPU",
    "MEMORY_MB",
    "DISK_GB",
    "total",
    "reserved",
    "min_unit",
    "max_unit",
    "step_size",
    "allocation_ratio",
    "rel",
    "traits",
    "version",
    "min_version",
}
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
HEX32 = re.compile(r"\b[0-9a-f]{32}\b")
TIME = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:?\d\d)?")
ENDPOINT = re.compile(r"https?://127\.0\.0\.1:\d+")
RESERVATION = re.compile(r"\br-[0-9a-z]{8}\b")
INSTANCE_NAME = re.compile(r"\binstance-[0-9a-f]{8}\b")
HOST = re.compile(r"\bcompute\d+\b")
ONE_OF = re.compile(r"is not one of \[([^\]]*)\]")  # a schema's enum, in set order
MIGRATION_ID = re.compile(r"(/migrations/|[Mm]igration )\d+\b")


@dataclass
class Answer:
    status: int
    headers: dict
    body: object  # parsed JSON, None when empty, or "<non-json: TYPE>"


class Diverged(AssertionError):
    """A wait in a scenario never came true: the cloud no longer follows Nova's path."""


class Target:
    """A cloud reached over HTTP: tokens for the admin and the member, service URLs."""

    def __init__(self, admin: dict, member: dict):
        self.http = requests.Session()
        self.tokens: dict[str, str] = {}
        self.urls: dict[str, str] = {}
        for who, cfg in (("admin", admin), ("member", member)):
            auth = cfg["auth"]
            reply = self.http.post(
                auth["auth_url"].rstrip("/") + "/v3/auth/tokens",
                json={
                    "auth": {
                        "identity": {
                            "methods": ["password"],
                            "password": {
                                "user": {
                                    "name": auth["username"],
                                    "password": auth["password"],
                                    "domain": {"name": "Default"},
                                }
                            },
                        },
                        "scope": {
                            "project": {
                                "name": auth["project_name"],
                                "domain": {"name": "Default"},
                            }
                        },
                    }
                },
                timeout=TIMEOUT,
            )
            reply.raise_for_status()
            self.tokens[who] = reply.headers["X-Subject-Token"]
            for svc in reply.json()["token"]["catalog"]:
                for ep in svc["endpoints"]:
                    if ep["interface"] == "public":
                        self.urls[svc["type"]] = ep["url"].rstrip("/")

    def call(self, who, service, method, path, *, mv=None, body=None, headers=None) -> Answer:
        hdrs = {"X-Auth-Token": self.tokens[who], "Accept": "application/json"}
        if mv is not None:
            kind = "compute" if service == "compute" else "placement"
            hdrs["OpenStack-API-Version"] = f"{kind} {mv}"
            if service == "compute":
                hdrs["X-OpenStack-Nova-API-Version"] = mv
        hdrs.update(headers or {})
        url = self.urls[service] + path if path.startswith("/") or not path else path
        kwargs = {"headers": hdrs, "timeout": TIMEOUT}
        if body is not None:
            kwargs["data"] = json.dumps(body)
            hdrs["Content-Type"] = "application/json"
        reply = self.http.request(method, url, **kwargs)
        text = reply.content
        if not text:
            parsed = None
        else:
            try:
                parsed = reply.json()
            except ValueError:
                ctype = reply.headers.get("Content-Type", "").split(";")[0] or "none"
                parsed = f"<non-json: {ctype}>"
        return Answer(reply.status_code, dict(reply.headers), parsed)


@dataclass
class Session:
    """What a scenario talks to: recorded calls, unrecorded helpers, placeholders."""

    target: Target
    entries: list = field(default_factory=list)
    aliases: dict = field(default_factory=dict)  # value -> placeholder
    created: list = field(default_factory=list)  # server ids to delete at the end
    services_changed: dict = field(default_factory=dict)  # service id -> restore body

    # -- recorded -------------------------------------------------------------------
    def call(
        self,
        label,
        method,
        path,
        *,
        who="admin",
        service="compute",
        mv=None,
        body=None,
        headers=None,
        keep_headers=(),
        send_headers=None,
        deliberate=None,
    ) -> Answer:
        """Send and record one call. ``deliberate``: ``{key: reason}`` for answer keys where
        the fake differs from Nova on purpose; compare() masks them, the rest must match."""
        answer = self.target.call(
            who, service, method, path, mv=mv, body=body, headers=send_headers
        )
        digest = {"status": answer.status, "body": self.digest(answer.body)}
        if keep_headers:
            lowered = {k.lower(): v for k, v in answer.headers.items()}
            digest["headers"] = {h: lowered.get(h.lower()) for h in keep_headers}
        request = f"{method} {self.normalise(path)}"
        if mv:
            request += f" @{mv}"
        request += f" as {who}"
        if body is not None:
            request += " " + json.dumps(self.digest_body_request(body), sort_keys=True)
        entry = {"label": label, "request": request, "nova": digest}
        if deliberate:
            entry["deliberate"] = dict(deliberate)
        self.entries.append(entry)
        return answer

    # -- unrecorded helpers ---------------------------------------------------------
    def get(self, path, *, who="admin", service="compute", mv=None) -> Answer:
        return self.target.call(who, service, "GET", path, mv=mv)

    def alias(self, value, name: str) -> None:
        self.aliases[str(value)] = "{" + name + "}"

    def create_servers(self, count: int, name: str, *, who="admin", mv="2.74") -> list[str]:
        body = {
            "server": {
                "name": name,
                "imageRef": IMAGE_ID,
                "flavorRef": "1",
                "networks": "none",
                "min_count": count,
                "max_count": count,
                "return_reservation_id": True,
            }
        }
        reply = self.target.call(who, "compute", "POST", "/servers", mv=mv, body=body)
        assert reply.status == 202, (reply.status, reply.body)
        rid = reply.body["reservation_id"]
        servers = self.wait(
            f"{count} ACTIVE servers {name}",
            lambda: self._active(rid, count),
        )
        ids = [s["id"] for s in sorted(servers, key=lambda s: s["name"])]
        self.created.extend(ids)
        for i, sid in enumerate(ids, 1):
            self.alias(sid, f"{name}{i}")
        return ids

    def _active(self, rid, count):
        found = self.get(f"/servers/detail?reservation_id={rid}", mv="2.74").body["servers"]
        if any(s["status"] == "ERROR" for s in found):
            raise AssertionError(f"a server went to ERROR: {found}")
        if len(found) == count and all(s["status"] == "ACTIVE" for s in found):
            return found
        return None

    def host_of(self, server_id) -> str:
        return self.get(f"/servers/{server_id}", mv="2.74").body["server"]["OS-EXT-SRV-ATTR:host"]

    def compute_hosts(self) -> list[str]:
        services = self.get("/os-services?binary=nova-compute", mv="2.53").body["services"]
        return sorted(s["host"] for s in services)

    def service_id(self, host) -> str:
        services = self.get(f"/os-services?binary=nova-compute&host={host}", mv="2.53")
        return services.body["services"][0]["id"]

    def set_service(self, host, label=None, **changes) -> Answer:
        sid = self.service_id(host)
        restore = {"status": "enabled", "forced_down": False}
        self.services_changed[sid] = restore
        if label:
            return self.call(label, "PUT", f"/os-services/{sid}", mv="2.53", body=changes)
        return self.target.call(
            "admin", "compute", "PUT", f"/os-services/{sid}", mv="2.53", body=changes
        )

    def provider(self, host) -> str:
        rps = self.get(f"/resource_providers?name={host}", service="placement", mv="1.14")
        return rps.body["resource_providers"][0]["uuid"]

    def wait_server(self, server_id, status="ACTIVE", task_state=None):
        def done():
            s = self.get(f"/servers/{server_id}", mv="2.74").body["server"]
            return s if s["status"] == status and s["OS-EXT-STS:task_state"] == task_state else None

        return self.wait(f"server {server_id} {status}", done)

    def wait_migration(self, server_id, status) -> dict:
        def done():
            found = self.get(f"/os-migrations?instance_uuid={server_id}", mv="2.80")
            found = found.body["migrations"]
            return next((m for m in found if m["status"] == status), None)

        return self.wait(f"migration of {server_id} {status}", done)

    def wait(self, what, predicate, timeout=60.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(0.2)
        raise Diverged(f"timed out after {timeout:.0f} s waiting for {what}")

    def cleanup(self) -> None:
        for sid in self.created:
            self.target.call("admin", "compute", "DELETE", f"/servers/{sid}", mv="2.74")
        for sid in self.created:
            self.wait(
                f"server {sid} deleted",
                lambda sid=sid: self.get(f"/servers/{sid}", mv="2.74").status == 404,
            )
        for sid, body in self.services_changed.items():
            self.target.call("admin", "compute", "PUT", f"/os-services/{sid}", mv="2.53", body=body)

    # -- normalisation --------------------------------------------------------------
    def normalise(self, text: str) -> str:
        for value in sorted(self.aliases, key=len, reverse=True):
            text = re.sub(rf"(?<![\w.-]){re.escape(value)}(?![\w.-])", self.aliases[value], text)
        text = ENDPOINT.sub("<endpoint>", text)
        text = UUID.sub("<uuid>", text)
        text = HEX32.sub("<id>", text)
        text = TIME.sub("<time>", text)
        text = RESERVATION.sub("<reservation>", text)
        text = INSTANCE_NAME.sub("<instance-name>", text)
        text = MIGRATION_ID.sub(r"\1<id>", text)
        text = ONE_OF.sub(
            lambda m: "is not one of [" + ", ".join(sorted(m.group(1).split(", "))) + "]", text
        )
        return HOST.sub("<host>", text)

    def digest(self, value, key=None):
        if isinstance(value, dict):
            return {self.normalise(str(k)): self.digest(v, k) for k, v in sorted(value.items())}
        if isinstance(value, list):
            items = [self.digest(v, key) for v in value]
            return sorted(items, key=lambda d: json.dumps(d, sort_keys=True))
        if key is None or key in KEEP:
            return self.normalise(value) if isinstance(value, str) else value
        return "<null>" if value is None else f"<{type(value).__name__}>"

    def digest_body_request(self, body):
        return json.loads(self.normalise(json.dumps(body)))


IMAGE_ID = "6ea41bd8-5a8a-4a9b-8b3c-0c33b1e0c7a1"


def run_scenario(target: Target, fn, *, strict: bool = True) -> list[dict]:
    """The scenario's recorded calls. ``strict=False`` (the fake): a wait that never comes
    true ends the scenario there, and the calls not reached count as differences."""
    session = Session(target)
    for svc in target.call("admin", "compute", "GET", "/os-services", mv="2.53").body["services"]:
        if svc["binary"] != "nova-compute":
            session.alias(svc["host"], "controller")
    try:
        fn(session)
    except Diverged as exc:
        if strict:
            raise
        session.entries.append({"label": "<diverged>", "request": str(exc), "nova": None})
    finally:
        try:
            session.cleanup()
        except Diverged:
            if strict:
                raise
    return session.entries


# -- snapshot files -----------------------------------------------------------------------


def snapshot_path(name: str) -> Path:
    return SNAPSHOTS / f"{name}.json"


def load_snapshot(name: str) -> dict:
    return json.loads(snapshot_path(name).read_text())


def write_snapshot(name: str, doc: dict) -> None:
    SNAPSHOTS.mkdir(exist_ok=True)
    snapshot_path(name).write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")


def mask(digest, keys):
    """The digest with the values of ``keys`` (at any depth) replaced by a marker."""
    if isinstance(digest, dict):
        return {k: "<deliberate>" if k in keys else mask(v, keys) for k, v in digest.items()}
    if isinstance(digest, list):
        return [mask(v, keys) for v in digest]
    return digest


def compare(recorded: list[dict], fake: list[dict]) -> list[dict]:
    """Per recorded call: ``{entry, fake, same, deliberate}``. ``same``: equal once the
    deliberate keys are masked; ``deliberate``: they differ only there."""
    out = []
    for i, entry in enumerate(recorded):
        got = fake[i] if i < len(fake) else None
        same_call = got is not None and got["request"] == entry["request"]
        fake_answer = got["nova"] if same_call else {"not sent; instead": got and got["request"]}
        keys = set(entry.get("deliberate") or ())
        same = mask(fake_answer, keys) == mask(entry["nova"], keys)
        out.append(
            {
                "entry": entry,
                "fake": fake_answer,
                "same": same,
                "deliberate": same and fake_answer != entry["nova"],
            }
        )
    return out


def fake_targets():
    """An embedded fake like the harness: three computes, scaled clock (no manual steps)."""
    from LiveMigLibrary.fake import FakeCloud

    cloud = FakeCloud(computes=3, clock="scaled", speed=50.0).start()
    return cloud, Target(cloud.cloud_config(True), cloud.cloud_config(False))


def record(names: list[str], clouds_yaml: str | None = None) -> int:
    """Record ``names`` (default: all) from a new harness, or a running one's clouds.yaml."""
    import tempfile

    import yaml

    from .corpus import SCENARIOS
    from .launcher import ADMIN_CLOUD, MEMBER_CLOUD, RealNova

    chosen = {n: SCENARIOS[n] for n in (names or SCENARIOS)}
    nova = None
    if clouds_yaml is None:
        nova = RealNova(Path(tempfile.mkdtemp(prefix="livemig-record-")), computes=3).start()
        clouds_yaml = nova.clouds_yaml
    try:
        clouds = yaml.safe_load(Path(clouds_yaml).read_text())["clouds"]
        real = Target(clouds[ADMIN_CLOUD], clouds[MEMBER_CLOUD])
        for name, fn in chosen.items():
            old = {}
            if snapshot_path(name).exists():
                old = {e["label"]: e for e in load_snapshot(name)["calls"]}
            entries = run_scenario(real, fn)
            cloud, fake = fake_targets()  # a fresh fake per scenario, as the replay has
            try:
                fake_entries = run_scenario(fake, fn, strict=False)
            finally:
                cloud.stop()
            for row in compare(entries, fake_entries):
                entry = row["entry"]
                note = (old.get(entry["label"]) or {}).get("difference")
                if row["deliberate"]:
                    reasons = "; ".join(f"{k}: {r}" for k, r in entry["deliberate"].items())
                    entry["difference"] = {"kind": "deliberate", "reason": reasons}
                elif not row["same"]:
                    reason = note["reason"] if note and note["kind"] == "to-fix" else UNFIXED_REASON
                    entry["difference"] = {"kind": "to-fix", "reason": reason, "fake": row["fake"]}
            doc = {
                "format": FORMAT,
                "scenario": name,
                "doc": (fn.__doc__ or "").strip(),
                "recorded_from": RECORDED_FROM,
                "calls": entries,
            }
            write_snapshot(name, doc)
            diffs = sum(1 for e in entries if "difference" in e)
            print(f"{name}: {len(entries)} calls, {diffs} differences", flush=True)
    finally:
        if nova is not None:
            nova.stop()
    return 0


def summary() -> int:
    calls = same = to_fix = deliberate = 0
    for path in sorted(SNAPSHOTS.glob("*.json")):
        for entry in json.loads(path.read_text())["calls"]:
            calls += 1
            kind = (entry.get("difference") or {}).get("kind")
            to_fix += kind == "to-fix"
            deliberate += kind == "deliberate"
            same += kind is None
    print(f"calls: {calls}  matching: {same}  to-fix: {to_fix}  deliberate: {deliberate}")
    return 0


def main(argv: list[str]) -> int:
    if argv[:1] == ["record"]:
        running = [a.split("=", 1)[1] for a in argv if a.startswith("--clouds-yaml=")]
        names = [a for a in argv[1:] if not a.startswith("--")]
        return record(names, running[0] if running else None)
    if argv[:1] == ["summary"]:
        return summary()
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
