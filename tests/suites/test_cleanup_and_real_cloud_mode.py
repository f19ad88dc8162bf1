"""`cloud=NAME` mode against a separately running cloud: cleanup scope and timeouts.

The fake here is started by the test and reached through `clouds.yaml`, exactly like a
real cloud: the library must not start a fake of its own, must delete what it created when
the suite ends (also after a failure, without a teardown), restore the compute services it
changed, and leave alone what it did not create.
"""

from __future__ import annotations

import io
import textwrap

import pytest
import robot
from robot.api import ExecutionResult

from LiveMigLibrary.fake import FakeCloud

pytestmark = pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")


@pytest.fixture
def cloud(tmp_path, monkeypatch):
    fake = FakeCloud(computes=2, clock="scaled", speed=50.0).start()
    clouds_yaml = fake.write_clouds_yaml(tmp_path / "clouds.yaml")
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(clouds_yaml))
    monkeypatch.delenv("OS_CLOUD", raising=False)
    yield fake
    fake.stop()


def run(tmp_path, suite_text: str) -> dict[str, tuple[str, str]]:
    suite = tmp_path / "cleanup_check.robot"
    suite.write_text(SETTINGS + textwrap.dedent(suite_text))
    console = io.StringIO()
    robot.run(
        str(suite),
        outputdir=str(tmp_path / "out"),
        log="NONE",
        report="NONE",
        stdout=console,
        stderr=console,
    )
    output = tmp_path / "out" / "output.xml"
    assert output.exists(), console.getvalue()
    result = ExecutionResult(str(output))
    return {t.name: (t.status, t.message) for t in result.suite.all_tests}


SETTINGS = """\
*** Settings ***
Library    LiveMigLibrary    cloud=livemig-fake    poll_interval=0.1s    timeout=30s
...    image=cirros-0.6.2-x86_64-disk    flavor=m1.tiny
"""


def test_suite_end_deletes_only_what_the_library_created_and_restores_services(cloud, tmp_path):
    conn = cloud.connect(admin=True)
    image = conn.image.find_image("cirros-0.6.2-x86_64-disk", ignore_missing=False)
    flavor = conn.compute.find_flavor("m1.tiny", ignore_missing=False)
    foreign = conn.compute.create_server(
        name="not-created-by-the-library",
        image_id=image.id,
        flavor_id=flavor.id,
        networks="none",
    )
    tests = run(
        tmp_path,
        """
        *** Test Cases ***
        Fails Halfway Without Teardown
            @{servers} =    Create Servers    count=2    name=leftover
            Wait Until Servers Are Active    @{servers}
            Disable Compute Service    compute1    reason=cleanup test
            Force Compute Service Down    compute2
            Fail    Something went wrong mid-test
        """,
    )
    assert tests["Fails Halfway Without Teardown"] == ("FAIL", "Something went wrong mid-test")
    names = sorted(s.name for s in conn.compute.servers(all_projects=True))
    assert names == ["not-created-by-the-library"]
    assert conn.compute.get_server(foreign.id).id == foreign.id
    services = {s.host: s for s in conn.compute.services(binary="nova-compute")}
    assert services["compute1"].status == "enabled"
    assert not services["compute2"].is_forced_down


def test_named_cloud_never_starts_a_fake_and_robot_timeouts_stop_waits(cloud, tmp_path):
    tests = run(
        tmp_path,
        """
        *** Test Cases ***
        Endless Wait Is Stopped By The Test Timeout
            [Timeout]    2s
            ${server} =    Create Server    name=timeout
            Wait Until Servers Are Active    ${server}
            Watch For New Migration Of Server    ${server}
            Wait Until Migration Of Server Is    ${server}    completed    timeout=1 hour

        Endpoint Is The Running Cloud
            ${url} =    Get Cloud Endpoint    compute
            Should Start With    ${url}    %{LIVEMIG_ENDPOINT}
        """.replace("%{LIVEMIG_ENDPOINT}", cloud.endpoint),
    )
    status, message = tests["Endless Wait Is Stopped By The Test Timeout"]
    assert status == "FAIL"
    assert "timeout 2 seconds exceeded" in message.lower()
    assert tests["Endpoint Is The Running Cloud"][0] == "PASS"
