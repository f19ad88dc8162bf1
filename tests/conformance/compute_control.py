"""Stop or start a compute of the real-Nova harness: ``compute_control.py stop|start HOST``.

What ``systemctl stop|start nova-compute`` is on a real host, for the harness's in-process
Nova (see ``harness.py``, ``ComputeControlApp``). The library runs it through its
``compute_process_command`` import argument, e.g.::

    compute_process_command=python tests/conformance/compute_control.py
        --control-file /tmp/x/control.json {action} {host}

Standard library only, so any Python runs it (the test venv's, not Nova's). It returns
when the harness has done it (a start after the new compute's ``init_host``); it prints
the harness's answer, and exits 1 with the reason when the harness refused or failed.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.request
from urllib.parse import quote


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--control-file", required=True, help="written by the harness")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds (default 120)")
    parser.add_argument("action", choices=("stop", "start"))
    parser.add_argument("host")
    args = parser.parse_args(argv)
    try:
        with open(args.control_file) as f:
            control = json.load(f)
        endpoint, token = control["endpoint"], control["token"]
    except (OSError, ValueError, KeyError) as error:
        print(f"cannot read the control file {args.control_file}: {error}", file=sys.stderr)
        return 1
    request = urllib.request.Request(
        f"{endpoint}/computes/{quote(args.host, safe='')}/{args.action}",
        data=b"",
        method="POST",
        headers={"X-Control-Token": token},
    )
    try:
        with urllib.request.urlopen(request, timeout=args.timeout) as reply:  # noqa: S310
            print(reply.read().decode())
        return 0
    except urllib.error.HTTPError as error:
        print(f"the harness answered {error.code}: {error.read().decode()}", file=sys.stderr)
    except (urllib.error.URLError, TimeoutError) as error:
        print(f"the harness at {endpoint} did not answer: {error}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
