"""Suite metadata that says what was tested (report.html), never a secret.

Fake or real, the cloud's name and the host of its auth URL, Nova's and Placement's
maximum microversions, the number of compute hosts, the library's version, and on the
embedded fake its clock mode and the Nova bugs it emulates; plus a link to the run's
`migrations.html`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..context import LibraryContext

MIGRATIONS_LINK = "[migrations.html|migrations.html] (every migration, per-phase statistics)"


def cloud_metadata(ctx: LibraryContext) -> dict[str, str]:
    """What the library can say about the cloud without starting one: only facts of a
    connection already open are asked for."""
    from .. import __version__

    settings = ctx.settings
    meta: dict[str, str] = {}
    if ctx.uses_fake:
        meta["Cloud"] = "embedded fake cloud (LiveMigLibrary.fake)"
    else:
        meta["Cloud"] = f"real cloud '{settings.cloud}' (clouds.yaml)"
    meta["LiveMigLibrary"] = __version__
    if not ctx.connected:
        return meta
    admin = ctx.admin
    host = admin.auth_host()
    if host:
        meta["Auth URL host"] = host
    for label, service in (("Nova", "compute"), ("Placement", "placement")):
        version = admin.max_microversion(service)
        if version:
            meta[f"{label} max microversion"] = version
    try:
        services = admin.compute_services()
        up = sum(1 for s in services if s.usable)
        meta["Compute hosts"] = f"{len(services)} ({up} enabled and up)"
    except Exception:  # a broken cloud must not hide the suite's own result
        pass
    if ctx.fake is not None:
        try:
            clock = ctx.fake.control.clock()
            mode = clock["mode"]
            meta["Fake clock"] = mode + (f", {clock['speed']:g}x" if mode == "scaled" else "")
            bugs = ctx.fake.control.emulated_bugs()
            meta["Emulated Nova bugs"] = ", ".join(bugs) if bugs else "none (a fixed Nova)"
        except Exception:
            pass
    return meta
