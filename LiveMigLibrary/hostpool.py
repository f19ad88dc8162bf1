"""Compute hosts reserved by tests, so parallel runs never touch each other's hosts.

A test that changes a host's state (disable, force down, fill, drain, kill) reserves the
hosts first; no other test gets them until it ends. The pool is the one place that
decides which hosts a test may use: `Reserve Compute Hosts`, `Get Compute Hosts
state=usable` and `Get Other Compute Host` consult it, and the keywords that change a
host refuse a host another test holds.

- Under pabot (`${PABOTLIBURI}` and `${CALLER_ID}` set) against a shared cloud, each host
  is a PabotLib lock named after the cloud and the host, taken without blocking, so that
  separate processes never hold the same host. PabotLib keeps locks in the pabot process;
  a robot process that is killed outright keeps its locks until pabot ends.
- Otherwise a pool in this process serves (also with pabot, for the embedded fake: each
  process has its own fake cloud and its own hosts).

Reservations belong to an owner (a test, or a suite when reserved in its setup) and are
released when it ends, also when it fails or the run is stopped, by the library's
listener.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable

from robot.api import logger

from .errors import CheckFailed, NotConfigured

_LOCAL_LOCK = threading.Lock()
_LOCAL: dict[str, dict[str, str]] = {}  # cloud key -> host -> owner (this process)
RETRY_SECONDS = 0.5


def robot_variable(name: str):
    from robot.libraries.BuiltIn import BuiltIn, RobotNotRunningError

    try:
        return BuiltIn().get_variable_value("${" + name + "}")
    except RobotNotRunningError:
        return None


def covers(holder: str, owner: str | None) -> bool:
    """Whether hosts ``holder`` reserved are the current ``owner``'s to use: its own, or
    those its suite (or a parent suite) reserved in the same library instance."""
    if owner is None:
        return False
    if holder == owner:
        return True
    h_prefix, _, h_rest = holder.partition("|")
    o_prefix, _, o_rest = owner.partition("|")
    if h_prefix != o_prefix or not h_rest.startswith("suite "):
        return False
    suite = h_rest.removeprefix("suite ")
    name = o_rest.split(" ", 1)[-1]
    return name.startswith(suite + ".")


PABOTLIB_TIMEOUT = 30  # seconds for one call to PabotLib's server


class PabotLocks:
    """Host locks in PabotLib's remote server, shared by every pabot process."""

    def __init__(self, uri: str, caller_id: str):
        from robot.libraries.Remote import Remote

        self.uri = uri
        self.caller_id = caller_id
        # PabotLib answers lock calls at once; a silent server must not stall a test forever
        self._remote = Remote(uri if "://" in uri else f"http://{uri}", timeout=PABOTLIB_TIMEOUT)

    def _call(self, name: str, *args):
        try:
            return self._remote.run_keyword(name, list(args), {})
        except Exception as error:
            raise NotConfigured(
                f"PabotLib at {self.uri} did not answer {name}: {error}. Run pabot with its "
                "PabotLib server (the default; not --no-pabotlib)."
            ) from None

    def try_acquire(self, lock: str) -> bool:
        return bool(self._call("acquire_lock", lock, self.caller_id))

    def release(self, lock: str) -> None:
        self._call("release_lock", lock, self.caller_id)

    def held_by_another_process(self, lock: str) -> bool:
        if self.try_acquire(lock):  # re-entrant for this process: undo at once
            self.release(lock)
            return False
        return True


class HostPool:
    """The reservations of one library instance, over the pool its cloud calls for."""

    def __init__(self, cloud_key: Callable[[], str], shared_cloud: Callable[[], bool]):
        self._cloud_key = cloud_key
        self._shared_cloud = shared_cloud
        self._pabot: PabotLocks | None | bool = None  # False: not under pabot
        self.owners: dict[str, list[str]] = {}  # owner -> hosts, in reservation order

    # -- which pool ------------------------------------------------------------------------

    @property
    def pabot(self) -> PabotLocks | None:
        if self._pabot is None:
            uri, caller = robot_variable("PABOTLIBURI"), robot_variable("CALLER_ID")
            self._pabot = (
                PabotLocks(uri, caller) if uri and caller and self._shared_cloud() else False
            )
        return self._pabot or None

    @property
    def kind(self) -> str:
        return "PabotLib locks shared by the pabot processes" if self.pabot else "this process"

    def _lock_name(self, host: str) -> str:
        return f"livemig-host|{self._cloud_key()}|{host}"

    # -- reserving -----------------------------------------------------------------------------

    def reserved_by_others(self, owner: str | None, hosts: Iterable[str]) -> set[str]:
        """Those of ``hosts`` another test holds (in this process or, under pabot, another)."""
        hosts = list(hosts)
        key = self._cloud_key()
        with _LOCAL_LOCK:
            local = dict(_LOCAL.get(key, {}))
        taken = {h for h in hosts if h in local and not covers(local[h], owner)}
        pabot = self.pabot
        if pabot is not None:
            mine = {h for held in self.owners.values() for h in held}
            try:
                taken |= {
                    h
                    for h in hosts
                    if h not in taken
                    and h not in mine
                    and pabot.held_by_another_process(self._lock_name(h))
                }
            except NotConfigured as error:
                # pabot --no-pabotlib: nobody can reserve across processes, so no host is
                # reserved by another process; only Reserve Compute Hosts needs PabotLib
                logger.warn(f"{error} Host reservations of other processes are not seen.")
                self._pabot = False
        return taken

    def reserve(
        self, owner: str, count: int, candidates: Callable[[], list[str]], timeout: float
    ) -> list[str]:
        """Takes ``count`` more hosts of ``candidates()`` for ``owner``; waits up to
        ``timeout`` seconds (real time) for other tests to release enough of them."""
        deadline = time.monotonic() + timeout
        while True:
            hosts = candidates()
            if len(hosts) < count:  # waiting for other tests cannot help
                raise CheckFailed(
                    f"Could not reserve {count} compute host(s): the cloud has {len(hosts)} "
                    f"that fit ({', '.join(hosts) or 'none'})."
                )
            got = self._try_reserve(owner, count, hosts)
            if got is not None:
                return got
            if time.monotonic() >= deadline:
                busy = sorted(self.reserved_by_others(owner, hosts))
                raise CheckFailed(
                    f"Could not reserve {count} compute host(s) within {timeout:g} seconds: "
                    f"{len(hosts)} fit ({', '.join(hosts) or 'none'}), other tests hold "
                    f"{', '.join(busy) or 'none'}, this test holds "
                    f"{', '.join(self.owners.get(owner, [])) or 'none'}."
                )
            time.sleep(RETRY_SECONDS)

    def _try_reserve(self, owner: str, count: int, hosts: list[str]) -> list[str] | None:
        key = self._cloud_key()
        held = self.owners.setdefault(owner, [])
        taken: list[str] = []
        pabot = self.pabot
        with _LOCAL_LOCK:
            local = _LOCAL.setdefault(key, {})
            for host in hosts:
                if len(taken) == count:
                    break
                if host in local or host in held:
                    continue
                if pabot is not None and not pabot.try_acquire(self._lock_name(host)):
                    continue
                local[host] = owner
                taken.append(host)
            if len(taken) < count:
                for host in taken:
                    del local[host]
                    if pabot is not None:
                        pabot.release(self._lock_name(host))
                return None
        held.extend(taken)
        return taken

    def release(self, owner: str) -> list[str]:
        """Releases every host of ``owner``; returns them."""
        hosts = self.owners.pop(owner, [])
        key = self._cloud_key() if hosts else None
        pabot = self.pabot if hosts else None
        problems = []
        with _LOCAL_LOCK:
            local = _LOCAL.get(key, {}) if key else {}
            for host in hosts:
                if local.get(host) == owner:
                    del local[host]
                if pabot is not None:
                    try:
                        pabot.release(self._lock_name(host))
                    except NotConfigured as error:
                        problems.append(str(error))
        for problem in problems:
            logger.warn(problem)
        return hosts

    def release_all(self) -> None:
        for owner in list(self.owners):
            self.release(owner)

    def usable_by(self, owner: str) -> list[str]:
        """The hosts ``owner`` holds itself or through its suites, in reservation order."""
        return [h for holder, hosts in self.owners.items() if covers(holder, owner) for h in hosts]
