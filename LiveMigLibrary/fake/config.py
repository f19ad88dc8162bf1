"""Tunables of a fake cloud: phase durations and Nova config options it honours."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields


@dataclass(slots=True)
class Durations:
    """How many virtual seconds each phase takes."""

    schedule: float = 0.5  # API accepted -> conductor/scheduler picked hosts
    build: float = 3.0  # spawning on the compute -> ACTIVE
    action: float = 0.5  # pause, suspend, stop, start, ... on the compute
    delete: float = 1.0  # terminate_instance on the compute
    precheck: float = 0.5  # async (2.34+) conductor live-migration pre-checks
    queue: float = 0.1  # cast from conductor to the source compute
    preparing: float = 1.0  # pre_live_migration on the destination
    running: float = 5.0  # the hypervisor copying memory
    abort: float = 0.5  # driver abort -> rollback done
    force_complete: float = 0.5  # post-copy switch / pause -> completion

    def as_dict(self) -> dict[str, float]:
        return asdict(self)

    def update(self, **phases: float) -> None:
        known = {f.name for f in fields(self)}
        for name, value in phases.items():
            if name not in known:
                raise ValueError(f"unknown phase {name!r}; phases are: {', '.join(sorted(known))}")
            try:
                seconds = float(value)
            except (TypeError, ValueError):
                raise ValueError(
                    f"duration of {name!r} must be a number of seconds, got {value!r}"
                ) from None
            if seconds < 0:
                raise ValueError(f"duration of {name!r} must be zero or more, got {value!r}")
            setattr(self, name, seconds)


# nova.conf options the fake follows
SERVICE_DOWN_TIME = 60.0  # [DEFAULT] service_down_time
DEFAULT_QUOTAS = {  # [quota] defaults (network ones: what the proxy APIs showed before 2.36)
    "fixed_ips": -1,
    "floating_ips": 10,
    "security_groups": 10,
    "security_group_rules": 20,
    "instances": 10,
    "cores": 20,
    "ram": 51200,
    "metadata_items": 128,
    "key_pairs": 100,
    "server_groups": 10,
    "server_group_members": 10,
    "injected_files": 5,
    "injected_file_content_bytes": 10240,
    "injected_file_path_bytes": 255,
}
