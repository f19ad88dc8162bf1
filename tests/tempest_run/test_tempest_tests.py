"""Tempest's own compute tests, live migration first, against the embedded fake.

This is how the OpenStack QA team checks a real Nova: the same test classes,
run by ``tempest run`` against a fake started here (scaled clock, three
computes, pre-provisioned admin and member accounts). Tests that need
services the fake does not model (neutron ports and trunks, cinder volumes,
keystone user creation, rebuild) are skipped by configuration or excluded.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from LiveMigLibrary.fake import IMAGE_ID, FakeCloud

TEMPEST = Path(sys.executable).with_name("tempest")

INCLUDE = (
    r"^tempest\.api\.compute\."
    r"(admin\.(test_live_migration|test_live_migration_negative|test_migrations|test_services|"
    r"test_hypervisor|test_availability_zone|test_servers)\.|"
    r"servers\.(test_multiple_create|test_multiple_create_negative)\.|"
    r"servers\.test_server_actions\.ServerActionsTestJSON\."
    r"test_(pause_unpause|suspend_resume|stop_start|lock_unlock)_server)"
)
# rebuild is an action the fake does not model
EXCLUDE = r"test_rebuild"

# The live-migration tests tempest's gate runs without volumes or trunks: all must pass.
MUST_PASS = (
    [
        f"tempest.api.compute.admin.test_live_migration.{cls}.{test}"
        for cls in (
            "LiveMigrationTest",
            "LiveAutoBlockMigrationV225Test",
            "LiveMigrationWithoutHostTest",
        )
        for test in ("test_live_block_migration", "test_live_block_migration_paused")
    ]
    + [
        f"tempest.api.compute.admin.test_migrations.MigrationsAdminTest.{test}"
        for test in (
            "test_list_migrations",
            "test_list_migrations_in_flavor_resize_situation",
            "test_resize_server_revert_deleted_flavor",
            "test_cold_migration",
            "test_revert_cold_migration",
            "test_cold_migration_with_swap",
        )
    ]
    + [
        "tempest.api.compute.admin.test_live_migration_negative."
        "LiveMigrationNegativeTest.test_invalid_host_for_migration",
        "tempest.api.compute.admin.test_live_migration_negative."
        "LiveMigrationNegativeTest.test_live_block_migration_suspended",
    ]
)


def tempest_conf(workspace: Path, cloud: FakeCloud) -> str:
    return textwrap.dedent(f"""\
        [DEFAULT]
        log_dir = {workspace}/logs
        log_file = tempest.log

        [oslo_concurrency]
        lock_path = {workspace}/lock

        [auth]
        use_dynamic_credentials = False
        test_accounts_file = {workspace}/etc/accounts.yaml
        default_credentials_domain_name = Default
        admin_domain_scope = False
        create_isolated_networks = False

        [identity]
        uri_v3 = {cloud.auth_url}/v3
        auth_version = v3
        region = RegionOne

        [identity-feature-enabled]
        api_v2 = False
        api_v3 = True

        [compute]
        image_ref = {IMAGE_ID}
        image_ref_alt = {IMAGE_ID}
        flavor_ref = 1
        flavor_ref_alt = 2
        min_compute_nodes = 3
        min_microversion = 2.1
        max_microversion = 2.104
        build_interval = 1
        build_timeout = 60

        [compute-feature-enabled]
        live_migration = True
        block_migration_for_live_migration = True
        can_migrate_between_any_hosts = True
        pause = True
        suspend = True
        cold_migration = True
        resize = True
        shelve = False
        rescue = False
        snapshot = False
        console_output = False
        change_password = False
        interface_attach = False
        config_drive = False
        personality = False
        serial_console = False
        volume_backed_live_migration = False
        volume_multiattach = False
        metadata_service = False

        [service_available]
        # tempest skips every compute class without neutron; with pre-provisioned
        # credentials and no network resources it never calls it.
        neutron = True
        cinder = False
        glance = True
        swift = False
        nova = True

        [network-feature-enabled]
        api_extensions =

        [validation]
        run_validation = False
        """)


def accounts_yaml(cloud: FakeCloud) -> str:
    admin = cloud.cloud_config(admin=True)["auth"]
    member = cloud.cloud_config(admin=False)["auth"]
    demo_id = cloud.backend.identity.project_by("demo").id
    # tempest locks one account per credential slot (primary, project_reader,
    # project_manager): the member user three times, told apart by their fields.
    scopes = [
        "project_name: demo",
        "tenant_name: demo",
        f"project_name: demo\n  project_id: {demo_id}",
    ]
    body = "".join(
        f"- username: {member['username']}\n  {scope}\n  password: {member['password']}\n"
        "  domain_name: Default\n  roles: [member, reader, manager]\n"
        for scope in scopes
    )
    return body + (
        f"- username: {admin['username']}\n  project_name: admin\n"
        f"  password: {admin['password']}\n  domain_name: Default\n"
        "  types: [admin]\n  roles: [admin]\n"
    )


@pytest.mark.skipif(not TEMPEST.exists(), reason="tempest is not installed (test extras)")
def test_tempest_compute_tests_pass(tmp_path):
    workspace = tmp_path / "tempest"
    # a private workspace registry, so nothing lands in ~/.tempest and runs never collide
    subprocess.run(
        [
            str(TEMPEST),
            "init",
            "--workspace-path",
            str(tmp_path / "workspace.yaml"),
            "--name",
            tmp_path.name,
            str(workspace),
        ],
        check=True,
        capture_output=True,
    )
    with FakeCloud(computes=3, clock="scaled", speed=20) as cloud:
        (workspace / "etc" / "tempest.conf").write_text(tempest_conf(workspace, cloud))
        (workspace / "etc" / "accounts.yaml").write_text(accounts_yaml(cloud))
        run = subprocess.run(
            [
                str(TEMPEST),
                "run",
                "--concurrency",
                "1",
                "--regex",
                INCLUDE,
                "--exclude-regex",
                EXCLUDE,
            ],
            cwd=workspace,
            capture_output=True,
            text=True,
            timeout=900,
        )
    output = run.stdout + run.stderr
    failed = re.findall(r"\{\d+\} (\S+) \[[\d.]+s\] \.\.\. FAILED", output)
    passed = set(re.findall(r"\{\d+\} (\S+) \[[\d.]+s\] \.\.\. ok", output))
    assert not failed, "tempest tests failed: " + ", ".join(failed) + "\n" + output[-4000:]
    missing = [t for t in MUST_PASS if t not in passed]
    assert not missing, "did not pass: " + ", ".join(missing) + "\n" + output[-4000:]
    assert run.returncode == 0, output[-4000:]
    shutil.rmtree(workspace, ignore_errors=True)
