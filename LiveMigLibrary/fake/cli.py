"""``livemig-fake-cloud``: serve a fake cloud until interrupted.

livemig-fake-cloud --computes 3 --clouds-yaml ./clouds.yaml
OS_CLIENT_CONFIG_FILE=./clouds.yaml openstack --os-cloud livemig-fake server list
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from . import FakeCloud
from .bugs import KNOWN_BUGS
from .config import CAPACITY_OPTIONS, Durations, LibvirtOptions, NovaOptions
from .store import KEEP_DELETED


def _phase(text: str) -> tuple[str, str]:
    """PHASE=SECONDS; the seconds are checked with every other duration (Durations)."""
    name, _, value = text.partition("=")
    if not value:
        raise argparse.ArgumentTypeError(f"expected PHASE=SECONDS, got {text!r}")
    return name, value


def _option(text: str) -> tuple[str, str]:
    name, _, value = text.partition("=")
    if not value:
        raise argparse.ArgumentTypeError(f"expected OPTION=VALUE, got {text!r}")
    return name.strip(), value.strip()


def _nova_options(pairs: list[tuple[str, str]]) -> dict:
    """Command-line text as oslo.config reads it: numbers stay text for the one number
    checker (fake/numeric.py), a boolean option is true or false."""
    out: dict = {}
    for name, value in pairs:
        if name not in CAPACITY_OPTIONS and value.lower() in ("true", "false"):
            out[name] = value.lower() == "true"
        else:
            out[name] = value  # NovaOptions names what it takes
    return out


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="livemig-fake-cloud",
        description="Serve a stateful fake OpenStack cloud (Keystone v3, Nova, Placement, "
        "a little Glance) on 127.0.0.1 until interrupted.",
    )
    p.add_argument("--port", type=int, default=0, help="TCP port (default: any free port)")
    p.add_argument("--computes", type=int, default=2, help="compute hosts (default: 2)")
    p.add_argument(
        "--clouds-yaml",
        metavar="PATH",
        help="write a clouds.yaml with clouds 'livemig-fake' (admin) and "
        "'livemig-fake-member' (member)",
    )
    p.add_argument(
        "--clock",
        choices=("scaled", "real", "manual"),
        default="scaled",
        help="scaled: virtual time runs --speed times faster than real time "
        "(default); real; manual: time moves only through the control API "
        "(POST /control/clock/advance with the admin's token in X-Auth-Token)",
    )
    p.add_argument(
        "--speed",
        type=float,
        default=10.0,
        help="virtual seconds per real second for --clock scaled (default: 10)",
    )
    p.add_argument(
        "--duration",
        type=_phase,
        action="append",
        default=[],
        metavar="PHASE=SECONDS",
        help="phase duration in virtual seconds; phases: " + ", ".join(Durations().as_dict()),
    )
    p.add_argument(
        "--libvirt",
        type=_option,
        action="append",
        default=[],
        metavar="OPTION=VALUE",
        help="a [libvirt] live-migration option of the computes' nova.conf; options: "
        + ", ".join(LibvirtOptions().as_dict()),
    )
    p.add_argument(
        "--nova-option",
        type=_option,
        action="append",
        default=[],
        metavar="OPTION=VALUE",
        help="a [DEFAULT] option of the nova.conf of the cloud (every compute's for the "
        "capacity ones); options: " + ", ".join(NovaOptions().as_dict()) + " (Nova's "
        "defaults: reserved_host_memory_mb=512, initial_cpu_allocation_ratio=4.0, ...)",
    )
    p.add_argument(
        "--link-bandwidth",
        type=float,
        default=None,
        metavar="MIB_PER_S",
        help="bandwidth of the links between compute hosts in MiB/s (default: fast enough "
        "for an idle guest to cross in the 'running' duration)",
    )
    p.add_argument(
        "--emulate-bugs",
        default="",
        metavar="BUG[,BUG]",
        help="behave like a Nova with these bugs: " + ", ".join(KNOWN_BUGS),
    )
    p.add_argument(
        "--log-requests", action="store_true", help="print an access log line per request"
    )
    p.add_argument(
        "--keep-deleted",
        type=int,
        default=KEEP_DELETED,
        metavar="N",
        help="deleted servers kept readable with their actions and migrations, as Nova "
        f"keeps them until archived; older ones are purged (default: {KEEP_DELETED})",
    )
    p.add_argument("--host-vcpus", type=int, default=16)
    p.add_argument("--host-memory-mb", type=int, default=32768)
    p.add_argument("--host-disk-gb", type=int, default=500)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        cloud = FakeCloud(
            computes=args.computes,
            clock=args.clock,
            speed=args.speed,
            port=args.port,
            durations=dict(args.duration),
            emulate_bugs=args.emulate_bugs,
            host_vcpus=args.host_vcpus,
            host_memory_mb=args.host_memory_mb,
            host_disk_gb=args.host_disk_gb,
            log_requests=args.log_requests,
            libvirt=dict(args.libvirt),
            nova_options=_nova_options(args.nova_option),
            link_bandwidth_mib=args.link_bandwidth,
            keep_deleted=args.keep_deleted,
        )
        cloud.start()
    except (ValueError, OSError) as exc:
        print(f"livemig-fake-cloud: error: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    print(f"endpoint: {cloud.endpoint}", flush=True)
    print(f"auth_url: {cloud.auth_url}", flush=True)
    print(f"control: {cloud.endpoint}/control (X-Auth-Token: the admin's token)", flush=True)
    if args.clouds_yaml:
        path = cloud.write_clouds_yaml(args.clouds_yaml)
        print(f"clouds_yaml: {path} (clouds: livemig-fake, livemig-fake-member)", flush=True)
    try:
        stop.wait()
    finally:
        cloud.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
