"""Choices accepted by LiveMigLibrary keywords.

Robot Framework converts arguments to these enums by member name (case, spaces and
underscores ignored), so ``auto``, ``AUTO`` and ``Auto`` all mean ``BlockMigration.AUTO``.
"""

from __future__ import annotations

from enum import Enum

from .errors import InvalidArgument


def _normalize(text: str) -> str:
    return "".join(ch for ch in str(text).lower() if ch not in " _-")


def _lookup(cls, value: object, argument: str, aliases: dict | None = None):
    """The member of `cls` whose value or name matches `value` (case, spaces, `_` and `-`
    ignored), or one of `aliases`; else InvalidArgument listing the values allowed."""
    if isinstance(value, cls):
        return value
    wanted = _normalize(str(value))
    if aliases and wanted in aliases:
        return aliases[wanted]
    for member in cls:
        if wanted in (_normalize(member.value), _normalize(member.name)):
            return member
    values = [m.value for m in cls]
    raise InvalidArgument(argument, value, ", ".join(values), values)


class BlockMigration(Enum):
    """How disks move in a live migration (``block_migration`` of ``os-migrateLive``).

    - `AUTO`: Nova decides from the storage (shared storage: no block migration).
    - `TRUE`: copy local disks to the destination.
    - `FALSE`: expect shared storage.
    """

    AUTO = "auto"
    TRUE = "true"
    FALSE = "false"

    @property
    def api_value(self) -> str | bool:
        return {"auto": "auto", "true": True, "false": False}[self.value]

    @classmethod
    def parse(cls, value: object, argument: str = "block_migration") -> BlockMigration:
        if isinstance(value, cls):
            return value
        if isinstance(value, bool):
            return cls.TRUE if value else cls.FALSE
        wanted = _normalize(str(value))
        for member in cls:
            if wanted == member.value:
                return member
        raise InvalidArgument(argument, value, "auto, true or false", ("auto", "true", "false"))


class MigrationStatus(Enum):
    """Status of a Nova migration record (``os-migrations``).

    Live migration goes `accepted` -> `queued` -> `preparing` -> `running` -> `completed`.
    Failures end in `error` (pre-checks, scheduling, pre_live_migration) or `failed`
    (driver failure while running, rolled back); an abort ends in `cancelled`. With
    post-copy permitted, a force-complete turns `running` into `running (post-copy)`.

    Cold migration and resize go `pre-migrating` -> `migrating` -> `post-migrating` ->
    `finished` (the server in `VERIFY_RESIZE`), then `confirming` -> `confirmed` or
    `reverting` -> `reverted`. Evacuation goes `accepted` -> `pre-migrating` -> `done`,
    and `completed` once the source compute is back and has cleaned up.
    """

    ACCEPTED = "accepted"
    QUEUED = "queued"
    PREPARING = "preparing"
    RUNNING = "running"
    RUNNING_POST_COPY = "running (post-copy)"  # libvirt switched to post-copy
    POST_MIGRATING = "post-migrating"
    COMPLETED = "completed"
    ERROR = "error"
    FAILED = "failed"
    CANCELLED = "cancelled"
    PRE_MIGRATING = "pre-migrating"
    MIGRATING = "migrating"
    FINISHED = "finished"
    CONFIRMING = "confirming"
    CONFIRMED = "confirmed"
    REVERTING = "reverting"
    REVERTED = "reverted"
    DONE = "done"

    @property
    def is_final(self) -> bool:
        return self in FINAL_MIGRATION_STATUSES

    @property
    def is_failure(self) -> bool:
        return self in FAILED_MIGRATION_STATUSES

    @classmethod
    def parse(cls, value: object, argument: str = "status") -> MigrationStatus:
        return _lookup(cls, value, argument)


FINAL_MIGRATION_STATUSES = frozenset(
    {
        MigrationStatus.COMPLETED,
        MigrationStatus.ERROR,
        MigrationStatus.FAILED,
        MigrationStatus.CANCELLED,
        MigrationStatus.CONFIRMED,
        MigrationStatus.REVERTED,
    }
)
FAILED_MIGRATION_STATUSES = frozenset(
    {MigrationStatus.ERROR, MigrationStatus.FAILED, MigrationStatus.CANCELLED}
)


class Refusal(Enum):
    """Why the cloud is expected to refuse a live migration.

    | = Member = | = HTTP status = | = Nova's message contains = |
    | `NO_VALID_HOST` | 400 | `No valid host was found` |
    | `HOST_NOT_FOUND` | 400 | `Compute host <name> could not be found` |
    | `BAD_REQUEST` | 400 | anything |
    | `FORBIDDEN` | 403 | anything (policy) |
    | `NOT_FOUND` | 404 | anything |
    | `CONFLICT` | 409 | anything (server state, e.g. ``task_state migrating``) |
    """

    NO_VALID_HOST = "NoValidHost"
    HOST_NOT_FOUND = "HostNotFound"
    BAD_REQUEST = "BadRequest"
    FORBIDDEN = "Forbidden"
    NOT_FOUND = "NotFound"
    CONFLICT = "Conflict"

    @property
    def http_status(self) -> int:
        return {
            "NoValidHost": 400,
            "HostNotFound": 400,
            "BadRequest": 400,
            "Forbidden": 403,
            "NotFound": 404,
            "Conflict": 409,
        }[self.value]

    @property
    def message_pattern(self) -> str | None:
        """Regular expression the cloud's message must match, if any."""
        return {
            "NoValidHost": r"No valid host was found",
            "HostNotFound": r"Compute host .* could not be found",
        }.get(self.value)

    @classmethod
    def parse(cls, value: object, argument: str = "reason") -> Refusal:
        aliases = {"badhost": cls.HOST_NOT_FOUND, "unknownhost": cls.HOST_NOT_FOUND}
        return _lookup(cls, value, argument, aliases)


class HostState(Enum):
    """Which compute hosts to list: `ANY`, or only `USABLE` ones (enabled and up)."""

    ANY = "any"
    USABLE = "usable"


class FakeClockMode(Enum):
    """Clock of the embedded fake cloud.

    - `MANUAL`: virtual time; waits advance it instead of sleeping (fast, deterministic).
    - `SCALED`: virtual time running `fake_speed` times faster than real time.
    - `REAL`: wall-clock time.
    """

    MANUAL = "manual"
    SCALED = "scaled"
    REAL = "real"


class MigrationOutcome(Enum):
    """How a live migration's memory copy ended (the embedded fake's model).

    - `CONVERGED`: pre-copy converged by itself; the switchover pause was the downtime.
    - `PAUSED`: force-complete (by the API or the completion timeout's `force_complete`
      action) paused the guest until the copy finished.
    - `POST_COPY`: force-complete switched to post-copy; the guest ran on the destination.
    - `CANCELLED`: aborted (by the API or the completion timeout's `abort` action).
    - `FAILED` / `ERROR`: the hypervisor failed the copy / nova-compute errored it out.
    """

    CONVERGED = "converged"
    PAUSED = "paused"
    POST_COPY = "post-copy"
    CANCELLED = "cancelled"
    FAILED = "failed"
    ERROR = "error"

    @classmethod
    def parse(cls, value: object, argument: str = "outcome") -> MigrationOutcome:
        return _lookup(cls, value, argument)


class ProbeMethod(Enum):
    """How the downtime probe checks that a server answers: `TCP` connect or `ICMP` ping."""

    TCP = "tcp"
    ICMP = "icmp"


class MoveOperation(Enum):
    """A move operation other than live migration, for [Move Of Server Should Be Refused].

    | = Member = | = Nova server action = | = Also accepted as = |
    | `COLD_MIGRATION` | `migrate` | `migrate`, `migration` |
    | `RESIZE` | `resize` | |
    | `CONFIRM_RESIZE` | `confirmResize` | `confirm` |
    | `REVERT_RESIZE` | `revertResize` | `revert` |
    | `EVACUATION` | `evacuate` | `evacuate` |
    """

    COLD_MIGRATION = "cold-migration"
    RESIZE = "resize"
    CONFIRM_RESIZE = "confirm-resize"
    REVERT_RESIZE = "revert-resize"
    EVACUATION = "evacuation"

    @classmethod
    def parse(cls, value: object, argument: str = "operation") -> MoveOperation:
        aliases = {
            "migrate": cls.COLD_MIGRATION,
            "migration": cls.COLD_MIGRATION,
            "confirm": cls.CONFIRM_RESIZE,
            "confirmresize": cls.CONFIRM_RESIZE,
            "revert": cls.REVERT_RESIZE,
            "revertresize": cls.REVERT_RESIZE,
            "evacuate": cls.EVACUATION,
        }
        return _lookup(cls, value, argument, aliases)
