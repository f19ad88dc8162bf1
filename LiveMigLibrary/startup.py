"""What a `robot` process pays for the library beyond its own work, kept small.

Measured on the seed suite (`benchmarks/fake_cloud.py --only seed_suite_process_s`):

- **Optional modules imported for nothing.** keystoneauth imports `netaddr` when it is
  installed (python-openstackclient and tempest bring it) only to print IP addresses in
  its debug log, and openstacksdk's cloud layer imports `psutil` only to look for IPv6
  interfaces when it picks a floating IP. Together about 50 ms of a run that never uses
  them. `defer_optional_imports` puts a stand-in for each into `sys.modules` before
  openstacksdk is imported: `import netaddr` then costs nothing, and the first read of
  any attribute but `__spec__`/`__name__` (which an `import` statement reads) executes
  the real module into that same module object, as if it had been imported then. (The
  standard library's `importlib.util.LazyLoader` cannot be used: an `import` statement
  reads `__spec__`, which makes it load at once.)
- **The interpreter's last garbage collections.** When Python exits it clears every
  module and runs several full collections over all objects left: with Robot,
  openstacksdk and the fake imported that was about 0.25 s of CPU after the run had
  ended, a fifth of the seed suite's process time. `skip_final_collections` registers an
  exit handler that collects the run's garbage once (so the finalizers of objects
  already unreachable, say an unclosed file in a reference cycle, still run) and then
  freezes what is left (`gc.freeze`), so those collections skip the modules' own
  objects, which the process is about to hand back to the operating system anyway.
  Python does not promise to finalize objects still alive at exit; nothing the library
  or Robot writes depends on it (Robot has written its outputs, the library has cleaned
  up and closed its connections before the interpreter exits).
- **Collections over objects that live for the whole run.** The modules' own objects
  (functions, classes, constants: about 100,000 of them with Robot, openstacksdk and the
  fake) never become garbage, yet every full collection walked them again: one in the
  middle of the seed suite and the one at exit cost about 0.09 s together.
  `freeze_imported` moves the objects alive at two moments into the permanent
  generation (`gc.freeze`): when the library has been imported, and once per process
  just before the first cloud connection opens, when openstacksdk (and the fake's code)
  has been imported but no connection, server or fake cloud exists yet. Later
  collections only walk what the run creates. Reference counting still frees frozen
  objects; only a reference cycle among objects alive at those two moments that becomes
  garbage later is kept until the process exits, which for module-level objects is
  their life anyway.
"""

from __future__ import annotations

import atexit
import gc
import importlib.util
import sys
import threading
import types

DEFERRED_MODULES = ("netaddr", "psutil")

_exit_handler_registered = False


class _DeferredModule(types.ModuleType):
    """A module whose code runs at the first read of an attribute (see the module doc)."""

    def __getattribute__(self, attr):
        if attr in _READ_BY_IMPORT:
            return super().__getattribute__(attr)
        _load(self)
        return getattr(self, attr)


_READ_BY_IMPORT = frozenset({"__spec__", "__name__", "__class__"})
_load_lock = threading.RLock()


def _load(module: types.ModuleType) -> None:
    with _load_lock:
        if type(module) is not _DeferredModule:  # another thread loaded it meanwhile
            return
        module.__class__ = types.ModuleType  # from here on a plain module
        spec = module.__spec__
        try:
            spec.loader.exec_module(module)
        except BaseException:
            sys.modules.pop(spec.name, None)  # as a failed import leaves nothing behind
            raise


def defer_optional_imports(names: tuple[str, ...] = DEFERRED_MODULES) -> list[str]:
    """Makes each module of ``names`` that is installed and not imported yet run its code
    at the first read of an attribute instead of at its import. Returns the names."""
    deferred = []
    for name in names:
        if name in sys.modules:
            continue
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            continue
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            continue
        module = importlib.util.module_from_spec(spec)
        module.__class__ = _DeferredModule
        sys.modules[name] = module
        deferred.append(name)
    return deferred


_frozen_before_connecting = False


def freeze_imported(before_first_connection: bool = False) -> None:
    """`gc.freeze()` now: after the library's import, and (``before_first_connection``)
    once per process after openstacksdk's import, before anything connects."""
    global _frozen_before_connecting
    if before_first_connection:
        if _frozen_before_connecting:
            return
        _frozen_before_connecting = True
    gc.freeze()


def _collect_then_freeze() -> None:
    gc.collect()
    gc.freeze()


def skip_final_collections() -> None:
    """At interpreter exit: one collection of the run's garbage, then `gc.freeze()`."""
    global _exit_handler_registered
    if not _exit_handler_registered:
        atexit.register(_collect_then_freeze)
        _exit_handler_registered = True
