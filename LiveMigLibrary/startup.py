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
- **Collections over the code's own objects.** Importing Robot, openstacksdk and the
  fake makes about 100,000 objects (functions, classes, constants) that never become
  garbage, and the allocations of an import trigger collections that walk them again and
  again: during the seed suite a full collection in the middle of the library's import,
  dozens of young ones during openstacksdk's, and the one at exit, about 0.1 s together.
  `importing_code` runs a block of imports without collections and then moves every
  object alive into the permanent generation (`gc.freeze`), once per process for each
  of: the library's import, openstacksdk's (just before the first connection, when no
  connection, server or fake cloud exists yet) and the embedded fake's code. Later
  collections only walk what the run creates. Reference counting still frees frozen
  objects; only a reference cycle among objects alive at those moments that becomes
  garbage later is kept until the process exits, which for module-level objects is
  their life anyway.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import importlib.util
import sys
import threading
import types
from collections.abc import Iterator

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


_imported: set[str] = set()


@contextlib.contextmanager
def importing_code(what: str) -> Iterator[None]:
    """Runs the block (imports) without garbage collections, then freezes every object
    alive (`gc.freeze`); once per process for each ``what``, later the block just runs."""
    if what in _imported:
        yield
        return
    _imported.add(what)
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


def _collect_then_freeze() -> None:
    gc.collect()
    gc.freeze()


def skip_final_collections() -> None:
    """At interpreter exit: one collection of the run's garbage, then `gc.freeze()`."""
    global _exit_handler_registered
    if not _exit_handler_registered:
        atexit.register(_collect_then_freeze)
        _exit_handler_registered = True
