"""A bounded, seeded, structure-aware fuzzer over every route of the fake cloud.

It walks the fake's own routing table (so a route added later is fuzzed too), and for each
request starts from a valid one (a known-good body, valid ids in the URL, a valid token and
microversion) and mutates one or a few parts of it: a value somewhere in the JSON body (wrong
type, out of range, huge, non-ASCII, deeply nested), the body's shape, the raw bytes, a header
(microversion, token, content type), the query string, a URL argument. Requests go straight
to the WSGI application (werkzeug's test client), so thousands fit in seconds.

A finding is any 5xx answer, any error answer whose body is not JSON, or an exception out of
the application. Every finding keeps what is needed to replay it.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass, field
from urllib.parse import quote, urlencode

from werkzeug.test import Client

HUGE_DIGITS = "9" * 5000

# scalar replacements: wrong types, boundaries, huge and odd text
SCALARS: list = [
    None,
    True,
    False,
    0,
    -1,
    1,
    -5,
    2**31,
    2**63,
    -(2**63),
    1.5,
    -0.5,
    1e30,
    -1e308,
    "",
    " ",
    "x",
    "0",
    "-1",
    "1.5",
    "true",
    "null",
    "auto",
    "x" * 5000,
    "pässwörd-ü€😀",
    "\u00b2",  # a digit to str.isdigit(), not to int()
    "\x00",
    "../../etc",
    "%s%n",
    "2026-13-45T99:99:99Z",
    "compute1",
    "nova",
]
CONTAINERS: list = [[], [1], ["x"], {}, {"x": 1}, [[[]]], {"a": {"b": {}}}]
# literal JSON texts json.dumps will not produce
RAW_VALUES = [HUGE_DIGITS, "NaN", "Infinity", "-Infinity", "1e999", "-0", "1" + "0" * 400]

QUERY_KEYS = [
    "limit",
    "marker",
    "all_tenants",
    "status",
    "host",
    "node",
    "name",
    "changes-since",
    "changes-before",
    "reservation_id",
    "project_id",
    "tenant_id",
    "instance_uuid",
    "migration_type",
    "source_compute",
    "user_id",
    "sort_key",
    "sort_dir",
    "deleted",
    "nocatalog",
    "uuid",
    "binary",
    "consumer_type",
    "resources",
    "in_tree",
    "member_of",
    "required",
    "with_servers",
    "hypervisor_hostname_pattern",
    "detailed",
    "locked",
    "tags",
    "tags-any",
    "not-tags",
    "flavor",
    "image",
    "ip",
    "availability_zone",
    "vm_state",
    "task_state",
    "max_seconds",
]
QUERY_VALUES = [
    "",
    "0",
    "1",
    "-1",
    "2",
    "\u00b2",
    HUGE_DIGITS,
    "x",
    "true",
    "false",
    "ACTIVE",
    "desc",
    "created_at",
    "2026-01-01T00:00:00Z",
    "2026-13-45",
    "VCPU:1",
    "VCPU:-1,MEMORY_MB:x",
    "ü€😀",
    "%00",
    "compute1",
    "live-migration",
    "a" * 3000,
]
URL_ARGS = [
    "",
    "0",
    "-1",
    HUGE_DIGITS,
    "\u00b2",
    "x" * 3000,
    "ü€",
    "%00",
    "..",
    "1e5",
    "00000000-0000-0000-0000-000000000000",
    "None",
    "detail",
]
VERSION_TEXTS = [
    "latest",
    "2.1",
    "2.0",
    "1.0",
    "2.104",
    "2.105",
    "2.999999",
    "3.0",
    "2." + HUGE_DIGITS,
    HUGE_DIGITS + ".1",
    "2.01",
    "2",
    "x.y",
    "",
    "1.39",
    "1.40",
    "1." + HUGE_DIGITS,
    "ü.1",
]


@dataclass
class Finding:
    method: str
    path: str
    query: str
    headers: dict
    body: bytes | None
    status: int
    answer: str
    mutation: str

    def describe(self) -> str:
        body = (self.body or b"")[:300]
        return (
            f"{self.status} for {self.method} {self.path}"
            f"{'?' + self.query[:200] if self.query else ''} [{self.mutation}] "
            f"headers={ {k: v[:80] for k, v in self.headers.items()} } body={body!r}: "
            f"{self.answer[:300]}"
        )


@dataclass
class FuzzResult:
    sent: int = 0
    findings: list[Finding] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    routes: set = field(default_factory=set)
    seconds: float = 0.0

    def server_errors(self) -> list[Finding]:
        return [f for f in self.findings if f.status >= 500]


class Fuzzer:
    """Fuzzes one fake cloud's application; ``ids`` gives valid values for URL arguments."""

    def __init__(self, cloud, seed: int = 1):
        from LiveMigLibrary.fake.server import build_app

        self.cloud = cloud
        self.backend = cloud.backend
        self.app = build_app(cloud.backend, cloud.control)
        self.app.base_url = "http://127.0.0.1:1"
        self.client = Client(self.app)
        self.rng = random.Random(seed)
        ident = self.backend.identity
        admin, demo = ident.users["admin"], ident.users["demo"]
        self.passwords = {"admin": admin.password, "demo": demo.password}
        self.admin_token = ident.authenticate("admin", None, admin.password, None).id
        self.member_token = ident.authenticate("demo", None, demo.password, None).id
        self.rules = [
            (rule, sorted(rule.methods - {"HEAD", "OPTIONS"}))
            for rule in self.app.url_map.iter_rules()
        ]

    # -- valid starting points ----------------------------------------------------------

    def ids(self) -> dict[str, list[str]]:
        b = self.backend
        with b.lock:
            store = b.store
            servers = list(store.instances)[:5] + list(store.deleted)[:2]
            migrations = [str(m) for m in list(store.migrations)[-5:]]
            migrations += [m.uuid for m in list(store.migrations.values())[-2:]]
            providers = list(store.placement.providers)
            services = [s.uuid for s in store.services.values()] + [str(s) for s in store.services]
            nodes = [str(n) for n in store.node_by_id] + list(store.node_by_uuid)
            hosts = list(store.nodes)
            actions = [a.request_id for acts in list(store.actions.values())[-3:] for a in acts]
            consumers = servers + [m.uuid for m in list(store.migrations.values())[-2:]]
            faults = [str(r) for r in b.faults.rules] or ["1"]
        ident = b.identity
        return {
            "server_id": servers or ["00000000-0000-0000-0000-000000000000"],
            "migration_id": migrations or ["1"],
            "uuid": providers or ["x"],
            "consumer": consumers or ["x"],
            "rc": ["VCPU", "MEMORY_MB", "DISK_GB", "CUSTOM_X"],
            "service_id": services,
            "hypervisor_id": nodes or ["1"],
            "pattern": hosts or ["compute"],
            "name": hosts or ["compute1"],
            "project_id": [p.id for p in ident.projects.values()],
            "user_id": [u.id for u in ident.users.values()],
            "flavor_id": ["1", "2", "m1.tiny"],
            "image_id": list(b.store.images) or ["x"],
            "request_id": actions or ["req-x"],
            "rule_id": faults,
        }

    def valid_bodies(self, method: str, rule: str, ids: dict) -> list:
        r = self.rng
        host = r.choice(ids["name"])
        rp = r.choice(ids["uuid"])
        project = ids["project_id"][0]
        user = ids["user_id"][0]
        if rule.endswith("/auth/tokens") and method == "POST":
            who = r.choice(["admin", "demo"])
            return [
                {
                    "auth": {
                        "identity": {
                            "methods": ["password"],
                            "password": {
                                "user": {
                                    "name": who,
                                    "domain": {"name": "Default"},
                                    "password": self.passwords[who],
                                }
                            },
                        },
                        "scope": {"project": {"name": who, "domain": {"name": "Default"}}},
                    }
                },
                {
                    "auth": {
                        "identity": {"methods": ["token"], "token": {"id": self.admin_token}},
                        "scope": {"project": {"id": project}},
                    }
                },
            ]
        table = {
            ("POST", "/servers"): [
                {
                    "server": {
                        "name": "fz",
                        "imageRef": ids["image_id"][0],
                        "flavorRef": "1",
                        "networks": "none",
                        "min_count": 1,
                        "max_count": 2,
                        "availability_zone": "nova",
                        "metadata": {"k": "v"},
                        "description": "d",
                        "hostname": "fz",
                        "return_reservation_id": True,
                        "tags": ["a"],
                    }
                }
            ],
            ("PUT", "/servers/<server_id>"): [{"server": {"name": "fz2", "description": "d"}}],
            ("POST", "/servers/<server_id>/action"): [
                {"os-migrateLive": {"host": host, "block_migration": "auto", "force": False}},
                {"os-migrateLive": {"host": None, "block_migration": False}},
                {"pause": None},
                {"unpause": None},
                {"suspend": None},
                {"resume": None},
                {"os-stop": None},
                {"os-start": None},
                {"lock": {"locked_reason": "fz"}},
                {"unlock": None},
                {"os-resetState": {"state": "active"}},
                {"injectNetworkInfo": None},
                {"migrate": {"host": host}},
                {"resize": {"flavorRef": "2"}},
                {"confirmResize": None},
                {"revertResize": None},
                {"evacuate": {"host": host}},
            ],
            ("POST", "/servers/<server_id>/migrations/<migration_id>/action"): [
                {"force_complete": None}
            ],
            ("PUT", "/os-services/<service_id>"): [
                {"status": "disabled", "disabled_reason": "fz"},
                {"status": "enabled"},
                {"forced_down": True},
            ],
            ("PUT", "/os-quota-sets/<project_id>"): [
                {"quota_set": {"instances": 20, "cores": 40, "ram": 51200}}
            ],
            ("PUT", "/resource_providers/<uuid>/inventories/<rc>"): [
                {
                    "resource_provider_generation": 1,
                    "total": 16,
                    "reserved": 0,
                    "min_unit": 1,
                    "max_unit": 16,
                    "step_size": 1,
                    "allocation_ratio": 1.0,
                }
            ],
            ("PUT", "/allocations/<consumer>"): [
                {
                    "allocations": {rp: {"resources": {"VCPU": 1, "MEMORY_MB": 512}}},
                    "project_id": project,
                    "user_id": user,
                    "consumer_generation": None,
                    "consumer_type": "INSTANCE",
                }
            ],
            ("POST", "/clock/advance"): [{"seconds": 1}],
            ("POST", "/clock/settle"): [{"max_seconds": 10}],
            ("POST", "/hosts"): [
                {
                    "name": "fzhost",
                    "vcpus": 4,
                    "memory_mb": 4096,
                    "disk_gb": 40,
                    "zone": "nova",
                    "max_concurrent_live_migrations": 1,
                }
            ],
            ("PUT", "/hosts/<name>/alive"): [{"alive": False}, {"alive": True}],
            ("PUT", "/durations"): [{"build": 1.0, "running": 2}],
            ("POST", "/faults"): [
                # (no `api` faults: their 5xx answers are what they are asked for)
                {"point": "build", "kind": "error", "server": "fz*", "count": 1},
                {"point": "live_migration", "kind": "slow", "seconds": 5, "host": "compute1"},
            ],
            ("PUT", "/bugs"): [{"emulated": ["1718455"]}],
        }
        for (m, suffix), bodies in table.items():
            if m == method and rule.endswith(suffix):
                return bodies
        return [{}] if method in ("POST", "PUT") else [None]

    # -- mutations -------------------------------------------------------------------------

    def _mutate_value(self, value, depth=0):
        """Replace one value somewhere in ``value`` (structure-aware)."""
        r = self.rng
        if isinstance(value, dict) and value and r.random() < 0.75:
            key = r.choice(list(value))
            out = dict(value)
            roll = r.random()
            if roll < 0.1:
                del out[key]
                return out, f"drop {key}"
            if roll < 0.15:
                out["fz_unknown"] = r.choice(SCALARS)
                return out, "extra key"
            inner, what = self._mutate_value(value[key], depth + 1)
            out[key] = inner
            return out, f"{key}.{what}" if what else str(key)
        if isinstance(value, list) and value and r.random() < 0.7:
            i = r.randrange(len(value))
            out = list(value)
            inner, what = self._mutate_value(value[i], depth + 1)
            out[i] = inner
            return out, f"[{i}].{what}"
        roll = r.random()
        if roll < 0.6:
            new = r.choice(SCALARS)
        elif roll < 0.8:
            new = r.choice(CONTAINERS)
        elif roll < 0.9:
            new = [value]
        else:
            new = _Raw(r.choice(RAW_VALUES))
        return new, f"={_short(new)}"

    def _body(self, valid) -> tuple[bytes | None, str, str]:
        """(bytes, content type, what was mutated)."""
        r = self.rng
        ctype = "application/json"
        if valid is None:
            if r.random() < 0.8:
                return None, ctype, "no body"
            valid = {}
        roll = r.random()
        if roll < 0.65:
            body, what = self._mutate_value(valid)
            if r.random() < 0.2:
                body, more = self._mutate_value(body)
                what += "; " + more
            return _dumps(body), ctype, what
        if roll < 0.72:
            return _dumps(valid), ctype, "valid"
        if roll < 0.8:
            new = r.choice(SCALARS + CONTAINERS)
            return _dumps(new), ctype, f"body={_short(new)}"
        if roll < 0.85:
            depth = r.choice([100, 1000, 5000])
            return b"[" * depth + b"]" * depth, ctype, f"nested {depth}"
        if roll < 0.9:
            raw = _dumps(valid)
            return raw[: r.randrange(max(len(raw), 1))], ctype, "truncated"
        if roll < 0.94:
            return b"\xff\xfe\x00garbage", ctype, "invalid utf-8"
        if roll < 0.97:
            return (
                _dumps(valid),
                r.choice(["text/plain", "", "application/x-www-form-urlencoded"]),
                ("content type"),
            )
        return b'{"a": 1, "a": 2}', ctype, "duplicate keys"

    def _url(self, rule, ids) -> tuple[str, str]:
        r = self.rng
        path = rule.rule
        what = ""
        for arg in rule.arguments:
            if r.random() < 0.15:
                value = r.choice(URL_ARGS)
                what = f"url {arg}={_short(value)}"
            else:
                value = r.choice(ids.get(arg) or ["x"])
            if arg == "rule_id" and not value.isdigit():
                value = "1"
            conv = f"<int:{arg}>" if f"<int:{arg}>" in path else f"<{arg}>"
            path = path.replace(conv, quote(value, safe=""))
        return path, what

    def _query(self) -> tuple[str, str]:
        r = self.rng
        if r.random() < 0.55:
            return "", ""
        pairs = [
            (r.choice(QUERY_KEYS), r.choice(QUERY_VALUES)) for _ in range(r.choice([1, 1, 2, 3]))
        ]
        return urlencode(pairs), "query " + ",".join(k for k, _ in pairs)

    def _headers(self, path: str) -> tuple[dict, str]:
        r = self.rng
        headers = {"Accept": "application/json"}
        service = path.split("/")[1]
        token = self.admin_token if r.random() < 0.8 else self.member_token
        what = ""
        roll = r.random()
        if roll < 0.05:
            token = None
            what = "no token"
        elif roll < 0.08:
            token = r.choice(["x", "", "ü" * 3, "a" * 5000])
            what = "bad token"
        if token is not None:
            headers["X-Auth-Token"] = token
        if service == "compute":
            version = "latest" if r.random() < 0.5 else r.choice(["2.1", "2.34", "2.80", "2.104"])
        elif service == "placement":
            version = r.choice(["1.0", "1.12", "1.28", "1.39", "latest"])
        else:
            version = None
        roll = r.random()
        if roll < 0.12:
            version = r.choice(VERSION_TEXTS)
            what += f" version={_short(version)}"
        if version is not None and service in ("compute", "placement"):
            headers["OpenStack-API-Version"] = f"{service} {version}"
            if service == "compute" and r.random() < 0.3:
                headers["X-OpenStack-Nova-API-Version"] = version
        if roll > 0.95:
            headers["OpenStack-API-Version"] = r.choice(
                ["compute", "compute 2.1 extra", ",,", "compute 2.1, compute 2.90", "ü 2.1"]
            )
            what += " version header"
        if service == "identity" and r.random() < 0.5:
            headers["X-Subject-Token"] = r.choice(
                [self.admin_token, self.member_token, "x", "", "ü"]
            )
        return headers, what.strip()

    # -- the run -------------------------------------------------------------------------

    def run(self, requests: int, seconds: float) -> FuzzResult:
        result = FuzzResult()
        start = time.monotonic()
        ids = self.ids()
        for n in range(requests):
            if time.monotonic() - start > seconds:
                break
            if n % 50 == 0:
                ids = self.ids()
                self._keep_valid_tokens()
            rule, methods = self.rng.choice(self.rules)
            method = self.rng.choice(methods)
            self._one(rule, method, ids, result)
            if n % 200 == 199:
                self._settle()
        result.seconds = time.monotonic() - start
        return result

    def _keep_valid_tokens(self) -> None:
        ident = self.backend.identity
        for attr, user in (("admin_token", "admin"), ("member_token", "demo")):
            try:
                ident.validate(getattr(self, attr))
            except Exception:  # revoked by a fuzzed DELETE /v3/auth/tokens
                password = ident.users[user].password
                setattr(self, attr, ident.authenticate(user, None, password, None).id)

    def _settle(self) -> None:
        """Let the model move on so later requests meet servers in other states."""
        clock = self.backend.clock
        try:
            clock.advance(30) if clock.mode.value == "manual" else None
        except Exception as exc:  # noqa: BLE001 - a broken clock is a finding of its own
            raise AssertionError(f"the clock broke after fuzzing: {exc!r}") from exc

    def _one(self, rule, method, ids, result: FuzzResult) -> None:
        path, url_what = self._url(rule, ids)
        query, query_what = self._query()
        headers, header_what = self._headers(path)
        valid = self.rng.choice(self.valid_bodies(method, rule.rule, ids))
        body, ctype, body_what = self._body(valid)
        if body is not None and ctype:
            headers["Content-Type"] = ctype
        mutation = "; ".join(w for w in (url_what, query_what, header_what, body_what) if w)
        result.sent += 1
        result.routes.add((method, rule.rule))
        try:
            resp = self.client.open(
                path, method=method, query_string=query, headers=headers, data=body
            )
            status = resp.status_code
            data = resp.get_data()
            ctype_out = resp.headers.get("Content-Type", "")
        except Exception as exc:  # noqa: BLE001 - an exception out of the app is a finding
            status, data, ctype_out = 599, repr(exc).encode(), ""
        result.statuses[status] = result.statuses.get(status, 0) + 1
        problem = status >= 500
        if status >= 400 and not problem:
            try:
                json.loads(data)
                problem = "json" not in ctype_out
            except ValueError:
                problem = True
        if problem:
            result.findings.append(
                Finding(
                    method,
                    path,
                    query,
                    headers,
                    body,
                    status,
                    data.decode("utf-8", "replace"),
                    mutation,
                )
            )


class _Raw:
    """A literal JSON text spliced into a body (numbers json.dumps will not write)."""

    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:
        return self.text[:20]


def _dumps(value) -> bytes:
    raws: list[str] = []

    def default(obj):
        if isinstance(obj, _Raw):
            raws.append(obj.text)
            return f"@@RAW{len(raws) - 1}@@"
        raise TypeError(type(obj))

    text = json.dumps(value, default=default)
    for i, raw in enumerate(raws):
        text = text.replace(f'"@@RAW{i}@@"', raw)
    return text.encode()


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 30 else text[:27] + "..."
