"""Wrong import arguments fail the importing suite once, with a message that says what to do.

Robot Framework reports a library whose constructor raises with a generic line on the
console and then fails every test with "No keyword with name ... found". So, when Robot
imports the library, `report_import_errors` keeps the error instead of raising it, and the
library's listener turns it into a failing suite setup: every test of the suite then fails
with "Parent suite setup failed: <the message>", and every keyword called anyway (a suite
teardown) fails with the same message. Outside a Robot run (Python, libdoc) the error is
raised at once.
"""

from __future__ import annotations

import difflib
import functools
import inspect
import os
import re

from .errors import InvalidArgument, LibraryImportFailed, UnknownCloud, UnknownImportArgument


def import_argument_names(init) -> list[str]:
    """The named import arguments of ``init``, in signature order."""
    return [
        p.name
        for p in inspect.signature(init).parameters.values()
        if p.kind is inspect.Parameter.KEYWORD_ONLY
    ]


def reject_unknown_arguments(init, positional: tuple, unknown: dict) -> None:
    """Fails naming the first unknown or positional argument, the valid ones and the closest."""
    valid = import_argument_names(init)
    for name, value in unknown.items():
        closest = difflib.get_close_matches(name, valid, n=1, cutoff=0.6)
        raise UnknownImportArgument(name, value, valid, closest[0] if closest else None)
    if positional:
        value = positional[0]
        error = InvalidArgument("import arguments", value, "named arguments: " + ", ".join(valid))
        error.args = (
            f"LiveMigLibrary takes only named import arguments (name=value), got '{value}' "
            f"without a name. For a cloud from clouds.yaml write `cloud={value}`. Its import "
            f"arguments are: {', '.join(valid)}.",
        )
        raise error


def check_cloud_names(**clouds: str | None) -> None:
    """Fails when a cloud name given is not in the clouds.yaml openstacksdk reads.

    Reads the configuration the way openstacksdk does (no network), so a misspelled or
    missing cloud fails at import, not at the first keyword of every test.
    """
    wanted = {argument: name for argument, name in clouds.items() if name}
    if not wanted:
        return
    from openstack import exceptions as sdk_exc
    from openstack.config import loader

    try:
        config = loader.OpenStackConfig()
    except sdk_exc.ConfigException as error:
        argument, name = next(iter(wanted.items()))
        raise UnknownCloud(
            argument,
            name,
            f"Cloud '{name}' cannot be looked up: openstacksdk could not read its "
            f"configuration: {error}. Fix that file, or point OS_CLIENT_CONFIG_FILE at a "
            "valid clouds.yaml.",
        ) from None
    defined = sorted(config.get_cloud_names())
    for argument, name in wanted.items():
        if name in defined:
            continue
        raise UnknownCloud(argument, name, unknown_cloud_message(argument, name, config, defined))


def unknown_cloud_message(argument: str, name: str, config, defined: list[str]) -> str:
    source = (
        " (from the OS_CLOUD environment variable)"
        if argument == "cloud" and os.environ.get("OS_CLOUD") == name
        else ""
    )
    read = [f for f in (config.config_filename, config.secure_config_filename) if f]
    searched = list(dict.fromkeys(getattr(config, "_config_files", [])))
    if read:
        where = "It is in no clouds.yaml read: " + "; ".join(
            f"{path} defines {', '.join(defined) or 'no clouds'}"
            if path == config.config_filename
            else f"{path} (secure settings)"
            for path in read
        )
        where += ". openstacksdk reads only the first clouds.yaml it finds"
        todo = f"Add '{name}' to that file, set OS_CLIENT_CONFIG_FILE to the clouds.yaml that "
    else:
        unreadable = [f for f in searched if os.path.isfile(f)]
        if unreadable:  # openstacksdk skipped it with a warning
            where = (
                f"No clouds.yaml could be read: openstacksdk skipped {', '.join(unreadable)} "
                "(its warning says why)"
            )
        else:
            where = "No clouds.yaml was found" + _searched(searched)
        named = os.environ.get("OS_CLIENT_CONFIG_FILE")
        if named and not os.path.exists(named):
            where += f"; OS_CLIENT_CONFIG_FILE names {named}, which does not exist"
        todo = (
            "Fix that file, or set OS_CLIENT_CONFIG_FILE to a clouds.yaml that "
            if unreadable
            else "Write a clouds.yaml defining it in one of those places, or set "
            "OS_CLIENT_CONFIG_FILE to one that "
        )
    closest = difflib.get_close_matches(name, defined, n=1, cutoff=0.6)
    guess = f" Did you mean '{closest[0]}'?" if closest else ""
    return (
        f"Cloud '{name}' given as `{argument}`{source} is not defined. {where}.{guess} "
        f"{todo}defines it, or import the library with {argument}=<a defined cloud>"
        + (" (no `cloud` at all: the embedded fake cloud)." if argument == "cloud" else ".")
    )


STANDARD_NAMES = ("clouds.yaml", "clouds.yml", "clouds.json")


def _searched(files: list[str]) -> str:
    """' (openstacksdk looked for X, and in A and B for clouds.yaml, clouds.yml or
    clouds.json)': the folders searched for the standard names once each, any other file
    (OS_CLIENT_CONFIG_FILE's) by its path."""
    if not files:
        return ""
    folders = list(dict.fromkeys(os.path.dirname(f) for f in files))
    grouped = [d for d in folders if all(os.path.join(d, n) in files for n in STANDARD_NAMES)]
    alone = [f for f in files if os.path.dirname(f) not in grouped]

    def listed(items: list[str], last: str) -> str:
        return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} {last} {items[-1]}"

    parts = [f"for {listed(alone, 'and')}"] if alone else []
    if grouped:
        parts.append(f"in {listed(grouped, 'and')} for {listed(list(STANDARD_NAMES), 'or')}")
    return f" (openstacksdk looked {', and '.join(parts)})"


def running_in_robot() -> bool:
    from robot.running import EXECUTION_CONTEXTS

    return EXECUTION_CONTEXTS.current is not None


class FailedImport:
    """Stands in for the library context when the import arguments were wrong."""

    def __init__(self, error: Exception):
        self.error = error
        self.message = f"Library import failed: {error}"
        first = re.match(r"(.+?[.!?])(?:\s|$)", str(error), re.DOTALL)
        self.headline = f"Library import failed: {first.group(1) if first else error}"

    def __getattr__(self, name: str):
        raise LibraryImportFailed(self.message)


def report_import_errors(init):
    """Decorates the library's ``__init__``: under Robot, wrong arguments fail the suite."""

    @functools.wraps(init)
    def wrapper(self, *args, **kwargs):
        try:
            init(self, *args, **kwargs)
        except InvalidArgument as error:
            if not running_in_robot():
                raise
            self._ctx = FailedImport(error)
            self.ROBOT_LIBRARY_LISTENER = self

    return wrapper


# Import failures shown in full in a run: (run, message) -> the suite that showed it
_SHOWN: dict[tuple, str] = {}


def fail_suite_setup(library, data, result=None) -> bool:
    """When the import failed, makes the suite's setup fail with the import error.

    Robot repeats a failed suite setup in every test of the suite. The first suite of a
    run that fails with an error gets it whole (where openstacksdk looked, what to do);
    later suites failing the same way (all of them, for a wrong `--variable CLOUD:`) get
    its first sentence and the name of that suite, not the whole text again.
    """
    failed = library.__dict__.get("_ctx")
    if not isinstance(failed, FailedImport):
        return False
    from robot.utils import escape

    message = failed.message
    if result is not None:
        run = result
        while run.parent is not None:
            run = run.parent
        first = _SHOWN.setdefault((id(run), run.start_time, message), result.full_name)
        if first != result.full_name:
            message = (
                f"{failed.headline} The same import failure as in suite '{first}', whose "
                "failure says what to do."
            )
    data.setup.config(name="BuiltIn.Fail", args=(escape(message),))
    return True


def import_failed(library) -> bool:
    return isinstance(library.__dict__.get("_ctx"), FailedImport)
