"""python-openstackclient against the fake through a clouds.yaml."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

OPENSTACK = shutil.which("openstack") or str(Path(sys.executable).with_name("openstack"))


@pytest.fixture
def osc(cloud, tmp_path):
    if not Path(OPENSTACK).exists():
        pytest.skip("python-openstackclient is not installed")
    clouds_yaml = tmp_path / "clouds.yaml"
    cloud.write_clouds_yaml(clouds_yaml)
    env = dict(os.environ)
    for key in list(env):
        if key.startswith("OS_"):
            del env[key]
    env["OS_CLIENT_CONFIG_FILE"] = str(clouds_yaml)

    def run(*args, cloud_name="livemig-fake", fmt_json=True, check=True):
        cmd = [OPENSTACK, "--os-cloud", cloud_name, *args]
        if fmt_json:
            cmd += ["-f", "json"]
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
        if check:
            assert proc.returncode == 0, f"{cmd}\nstdout={proc.stdout}\nstderr={proc.stderr}"
            return json.loads(proc.stdout) if fmt_json and proc.stdout.strip() else proc.stdout
        return proc

    return run


def test_clouds_yaml_has_both_entries(cloud, tmp_path):
    import yaml

    path = tmp_path / "clouds.yaml"
    cloud.write_clouds_yaml(path)
    clouds = yaml.safe_load(path.read_text())["clouds"]
    assert set(clouds) >= {"livemig-fake", "livemig-fake-member"}
    assert clouds["livemig-fake"]["auth"]["auth_url"] == cloud.auth_url


def test_cli_create_list_migrate(osc, cloud, admin):
    ctl = cloud.control
    osc(
        "server",
        "create",
        "--image",
        "cirros-0.6.2-x86_64-disk",
        "--flavor",
        "m1.tiny",
        "--no-network",
        "--min",
        "2",
        "--max",
        "2",
        "clivm",
    )
    ctl.settle()
    rows = osc("server", "list", "--long")
    names = sorted(r["Name"] for r in rows)
    assert names == ["clivm-1", "clivm-2"]
    assert all(r["Status"] == "ACTIVE" for r in rows)
    assert all(r["Host"] in ("compute1", "compute2") for r in rows)
    row = rows[0]
    src = row["Host"]
    dst = "compute2" if src == "compute1" else "compute1"
    osc(
        "--os-compute-api-version",
        "2.80",
        "server",
        "migrate",
        "--live-migration",
        "--host",
        dst,
        row["ID"],
        fmt_json=False,
    )
    ctl.settle()
    assert admin.server(row["ID"])["OS-EXT-SRV-ATTR:host"] == dst
    migs = osc(
        "--os-compute-api-version", "2.80", "server", "migration", "list", "--server", row["ID"]
    )
    assert len(migs) == 1
    mig = migs[0]
    assert mig["Status"] == "completed"
    assert mig["Source Compute"] == src and mig["Dest Compute"] == dst
    assert mig["Type"] == "live-migration"


def test_cli_compute_service_list(osc):
    rows = osc("compute", "service", "list")
    computes = {r["Host"]: r for r in rows if r["Binary"] == "nova-compute"}
    assert set(computes) == {"compute1", "compute2"}
    assert all(r["Status"] == "enabled" and r["State"] == "up" for r in computes.values())


def test_cli_hypervisor_list(osc):
    rows = osc("hypervisor", "list")
    assert len(rows) == 2
    assert all(r["State"] == "up" for r in rows)


def test_cli_member_cannot_list_services(osc):
    proc = osc("compute", "service", "list", cloud_name="livemig-fake-member", check=False)
    assert proc.returncode != 0
    assert "HTTP 403" in proc.stderr or "403" in proc.stderr


def test_cli_resource_provider_list(osc):
    import importlib.util

    if importlib.util.find_spec("osc_placement") is None:
        pytest.skip("osc-placement is not installed")
    proc = osc("resource", "provider", "list", check=False)
    assert proc.returncode == 0, proc.stderr
    assert {r["name"] for r in json.loads(proc.stdout)} == {"compute1", "compute2"}
