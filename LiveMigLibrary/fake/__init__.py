"""The embedded fake OpenStack cloud (Keystone v3, Nova, Placement, a little Glance).

```python
from LiveMigLibrary.fake import FakeCloud
cloud = FakeCloud(computes=2).start()
conn = cloud.connect()
...
cloud.stop()
```
How it models Nova, its control API, faults and emulated bugs: ``docs/fake-cloud.md``.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .cloud import IMAGE_ID, IMAGE_NAME, Cloud
from .control import Control
from .server import HttpServer, build_app
from .store import KEEP_DELETED

__all__ = ["FakeCloud", "IMAGE_ID", "IMAGE_NAME"]


class FakeCloud:
    """A fake cloud served on 127.0.0.1; ``start()`` it, use it, ``stop()`` it."""

    def __init__(
        self,
        *,
        computes: int = 2,
        clock: str = "manual",
        speed: float = 10.0,
        port: int = 0,
        durations: dict | None = None,
        emulate_bugs=(),
        host_vcpus: int = 16,
        host_memory_mb: int = 32768,
        host_disk_gb: int = 500,
        host_prefix: str = "compute",
        log_requests: bool = False,
        nova_options: dict | None = None,
        libvirt: dict | None = None,
        link_bandwidth_mib: float | None = None,
        keep_deleted: int = KEEP_DELETED,
    ):
        if not isinstance(port, int) or isinstance(port, bool) or not 0 <= port <= 65535:
            raise ValueError(f"port must be 0 (any free port) or 1-65535, got {port!r}")
        self.backend = Cloud(
            computes=computes,
            clock=clock,
            speed=speed,
            durations=durations,
            emulate_bugs=emulate_bugs,
            host_vcpus=host_vcpus,
            host_memory_mb=host_memory_mb,
            host_disk_gb=host_disk_gb,
            host_prefix=host_prefix,
            nova_options=nova_options,
            libvirt=libvirt,
            link_bandwidth_mib=link_bandwidth_mib,
            keep_deleted=keep_deleted,
        )
        self.control = Control(self.backend)
        self._port = port
        self._log_requests = log_requests  # an access log line per request on stderr
        self._http: HttpServer | None = None

    # -- lifecycle --------------------------------------------------------------

    def start(self) -> FakeCloud:
        if self._http is None:
            self._http = HttpServer(
                build_app(self.backend, self.control),
                port=self._port,
                log_requests=self._log_requests,
            )
            self._http.start()
            self.backend.clock.start()
        return self

    def stop(self) -> None:
        self.backend.clock.stop()
        if self._http is not None:
            self._http.stop()
            self._http = None

    def __enter__(self) -> FakeCloud:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- where and who ------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._http is None:
            raise RuntimeError("the fake cloud is not started; call start() first")
        return self._http.port

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def auth_url(self) -> str:
        return self.endpoint + "/identity"

    def cloud_config(self, admin: bool = True) -> dict:
        """One ``clouds.yaml`` entry (admin user, or the member user ``demo``)."""
        user = self.backend.identity.users["admin" if admin else "demo"]
        return {
            "auth": {
                "auth_url": self.auth_url,
                "username": user.name,
                "password": user.password,
                "project_name": user.project.name,
                "user_domain_name": "Default",
                "project_domain_name": "Default",
            },
            "region_name": "RegionOne",
            "identity_api_version": 3,
            "interface": "public",
        }

    def clouds_yaml(self) -> str:
        import json

        clouds = {
            "clouds": {
                "livemig-fake": self.cloud_config(True),
                "livemig-fake-member": self.cloud_config(False),
            }
        }
        return json.dumps(clouds, indent=2) + "\n"  # JSON is YAML

    def write_clouds_yaml(self, path: str | os.PathLike) -> Path:
        """Write ``clouds.yaml`` with ``livemig-fake`` (admin) and ``livemig-fake-member``."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".clouds-", suffix=".yaml")
        with os.fdopen(fd, "w") as f:
            f.write(self.clouds_yaml())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
        return path

    def connect(self, admin: bool = True):
        """An openstacksdk connection to this cloud.

        It ignores the environment's proxy, CA bundle and netrc settings (requests'
        ``trust_env``): the fake is on 127.0.0.1 over plain HTTP, where an
        ``HTTP_PROXY`` without ``NO_PROXY`` would send its requests astray, and looking
        them up again for every request was a third of a request's cost. It is IPv4 only
        (``force_ipv4``), as the fake is: openstacksdk otherwise lists the machine's
        network interfaces with psutil, for floating IPs the fake does not have.
        """
        import openstack

        conn = openstack.connect(**self.cloud_config(admin), force_ipv4=True)
        conn.session.session.trust_env = False
        return conn
