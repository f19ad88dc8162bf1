"""Tunables of a fake cloud: phase durations and Nova config options it honours."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from .numeric import number

MAX_SECONDS = 365 * 24 * 3600.0  # a year of virtual time: any phase or step beyond is a typo


def seconds_value(name: str, value) -> float:
    """A number of virtual seconds, 0 to a year (beyond is a typo), by the rules of
    ``numeric.number`` (numeric text taken, as oslo.config's FloatOpt reads it)."""
    return number(name, value, minimum=0, maximum=MAX_SECONDS, unit="seconds")


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
    # cold migration, resize, evacuation (nova/compute/manager.py)
    prep_resize: float = 0.5  # claim on the destination
    resize_instance: float = 2.0  # power off and copy the disk from the source
    finish_resize: float = 1.0  # start the guest on the destination
    confirm_resize: float = 0.5  # clean the guest up on the source
    revert_resize: float = 0.5  # destroy the guest on the destination
    finish_revert_resize: float = 1.0  # start the guest on the source again
    rebuild: float = 3.0  # evacuation: rebuild on the destination

    def as_dict(self) -> dict[str, float]:
        return asdict(self)

    def update(self, **phases: float) -> None:
        known = {f.name for f in fields(self)}
        checked = {}
        for name, value in phases.items():
            if name not in known:
                raise ValueError(f"unknown phase {name!r}; phases are: {', '.join(sorted(known))}")
            checked[name] = seconds_value(f"duration of {name!r}", value)
        for name, seconds in checked.items():  # all or nothing
            setattr(self, name, seconds)


# [DEFAULT] options of a compute's nova.conf that size what it reports to placement
# (nova/conf/compute.py; the driver's update_provider_tree and _get_allocation_ratios).
# name -> (default, minimum, kind); ratios of None (the default) defer to the initial_* ones.
CAPACITY_OPTIONS = {
    "reserved_host_memory_mb": (512, 0, int),
    "reserved_host_disk_mb": (0, 0, int),
    "reserved_host_cpus": (0, 0, int),
    "cpu_allocation_ratio": (None, 0.0, float),
    "ram_allocation_ratio": (None, 0.0, float),
    "disk_allocation_ratio": (None, 0.0, float),
    "initial_cpu_allocation_ratio": (4.0, 0.0, float),
    "initial_ram_allocation_ratio": (1.0, 0.0, float),
    "initial_disk_allocation_ratio": (1.0, 0.0, float),
}


def capacity_option(name: str, value):
    """A capacity option's value as oslo.config reads it: IntOpt/FloatOpt with Nova's
    minimum (``numeric.number``); the ratios (default None) also take empty for none."""
    default, minimum, kind = CAPACITY_OPTIONS[name]
    return number(name, value, whole=kind is int, minimum=minimum, none=default is None)


def capacity_options(options: dict) -> dict:
    """Check ``{name: value}`` capacity options; an unknown name is an error."""
    unknown = sorted(set(options) - set(CAPACITY_OPTIONS))
    if unknown:
        raise ValueError(
            f"unknown option {unknown[0]!r}; capacity options are: {', '.join(CAPACITY_OPTIONS)}"
        )
    return {name: capacity_option(name, value) for name, value in options.items()}


@dataclass(slots=True)
class NovaOptions:
    """nova.conf options an operator sets differently from cloud to cloud.

    The capacity options (``CAPACITY_OPTIONS``) are every compute's unless a host was
    added with its own (``ComputeHosts.add_host(..., nova_options=...)``).
    """

    allow_resize_to_same_host: bool = False  # [DEFAULT]
    resize_confirm_window: int = 0  # [DEFAULT] seconds; 0 never confirms automatically
    reserved_host_memory_mb: int = 512
    reserved_host_disk_mb: int = 0
    reserved_host_cpus: int = 0
    cpu_allocation_ratio: float | None = None
    ram_allocation_ratio: float | None = None
    disk_allocation_ratio: float | None = None
    initial_cpu_allocation_ratio: float = 4.0
    initial_ram_allocation_ratio: float = 1.0
    initial_disk_allocation_ratio: float = 1.0

    def as_dict(self) -> dict:
        return asdict(self)

    def capacity(self) -> dict:
        return {name: getattr(self, name) for name in CAPACITY_OPTIONS}

    def update(self, **options) -> None:
        """Set options after checking every value first (all or nothing)."""
        checked = {}
        for name, value in options.items():
            if name == "allow_resize_to_same_host":
                if not isinstance(value, bool):
                    raise ValueError(
                        f"allow_resize_to_same_host must be true or false, got {value!r}"
                    )
            elif name == "resize_confirm_window":  # IntOpt(min=0), seconds
                value = number(name, value, whole=True, minimum=0, unit="seconds")
            elif name in CAPACITY_OPTIONS:
                value = capacity_option(name, value)
            else:
                raise ValueError(
                    f"unknown option {name!r}; options are: "
                    + ", ".join(f.name for f in fields(self))
                )
            checked[name] = value
        for name, value in checked.items():
            setattr(self, name, value)


# nova.conf options the fake follows
SERVICE_DOWN_TIME = 60.0  # [DEFAULT] service_down_time
# oslo.service's periodic_task DEFAULT_INTERVAL: how often a compute runs a periodic task
# declared without `spacing` (e.g. _poll_unconfirmed_resizes). The fake's computes run
# them at whole multiples of it since the cloud started (Nova adds a random initial delay
# of up to periodic_fuzzy_delay; the fake keeps the phase fixed, so tests are repeatable).
PERIODIC_INTERVAL = 60.0
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


TIMEOUT_ACTIONS = ("abort", "force_complete")


@dataclass(slots=True)
class LibvirtOptions:
    """The ``[libvirt]`` live-migration options of nova.conf the fake's computes follow.

    Defaults and lower bounds are Nova's (``nova/conf/libvirt.py``), but for two options
    Nova declares without ``min``, where the fake refuses what the driver cannot use:
    a negative ``live_migration_bandwidth`` (libvirt's bandwidth is unsigned) and a
    ``live_migration_monitor_interval`` below 1 (``_live_migration_monitor`` divides by
    ``int(interval / 0.5)``).
    """

    live_migration_bandwidth: int = 0  # MiB/s; 0: the hypervisor's default (the link)
    live_migration_downtime: int = 500  # ms, the max downtime the steps climb to
    live_migration_downtime_steps: int = 10
    live_migration_downtime_delay: int = 75  # s per GiB of RAM + disk between steps
    live_migration_completion_timeout: int = 800  # s per GiB of RAM + disk; 0: none
    live_migration_timeout_action: str = "abort"  # or force_complete
    live_migration_permit_post_copy: bool = False
    live_migration_permit_auto_converge: bool = False
    live_migration_monitor_interval: int = 5  # s between saves of the progress stats

    MINIMUMS = {  # noqa: RUF012 - class constant, not a field (slots dataclass)
        "live_migration_bandwidth": 0,
        "live_migration_downtime": 100,
        "live_migration_downtime_steps": 3,
        "live_migration_downtime_delay": 3,
        "live_migration_completion_timeout": 0,
        "live_migration_monitor_interval": 1,
    }

    def as_dict(self) -> dict:
        return asdict(self)

    def update(self, **options) -> None:
        """Set options after checking every value first (all or nothing)."""
        known = {f.name for f in fields(self)}
        values = {}
        for name, value in options.items():
            if name not in known:
                raise ValueError(
                    f"unknown [libvirt] option {name!r}; options are: {', '.join(sorted(known))}"
                )
            values[name] = self._check(name, value)
        for name, value in values.items():
            setattr(self, name, value)

    def _check(self, name: str, value):
        default = getattr(type(self)(), name)
        if isinstance(default, bool):
            if isinstance(value, str) and value.strip().lower() in ("true", "false"):
                return value.strip().lower() == "true"
            if not isinstance(value, bool):
                raise ValueError(f"{name} must be true or false, got {value!r}")
            return value
        if name == "live_migration_timeout_action":
            if value not in TIMEOUT_ACTIONS:
                raise ValueError(
                    f"{name} must be one of {', '.join(TIMEOUT_ACTIONS)}, got {value!r}"
                )
            return value
        # IntOpt(min=...), as nova/conf/libvirt.py declares it
        return number(name, value, whole=True, minimum=self.MINIMUMS[name])
