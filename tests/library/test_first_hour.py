"""A new user's mistakes get messages that say what is wrong and what to do (issue 12).

Import arguments and cloud names are checked through real `robot` runs, because what the
user sees there (and what Robot adds around it) is the point.
"""

from __future__ import annotations

import json

import pytest
from robot.libdocpkg import LibraryDocumentation

from LiveMigLibrary import LiveMigLibrary
from LiveMigLibrary.errors import (
    AmbiguousName,
    CheckFailed,
    CloudError,
    InvalidArgument,
    LibraryImportFailed,
    LiveMigError,
    UnknownCloud,
    UnknownImportArgument,
)
from LiveMigLibrary.fake.objects import Image

from .conftest import run_robot

KEYWORDS = {kw.name: kw for kw in LibraryDocumentation("LiveMigLibrary").keywords}


def run_suite(
    tmp_path, settings: str, env: dict | None = None, setup: str = "", second="Get Run Prefix"
):
    suite = tmp_path / "first_hour.robot"
    suite.write_text(
        "*** Settings ***\n"
        f"{settings}\n"
        f"{setup}"
        "Suite Teardown    Delete Created Resources\n\n"
        "*** Test Cases ***\n"
        "First\n    Get Compute Hosts\n"
        f"Second\n    {second}\n"
    )
    return run_robot(suite, tmp_path, env)


def assert_suite_fails_once_with(result, console: str, *parts: str) -> str:
    suite = result.suite
    message = suite.setup.message
    assert suite.setup.status == "FAIL"
    for part in parts:
        assert part in message, message
    for test in suite.tests:
        assert test.status == "FAIL"
        assert test.message == "Parent suite setup failed:\n" + message
    # no cascade of Robot's generic messages, and the teardown does not fail again
    assert "No keyword with name" not in console
    assert "non-named arguments" not in console
    assert suite.teardown.status == "PASS"
    return message


def test_misspelled_import_argument_names_it_the_valid_ones_and_the_closest(tmp_path):
    rc, result, console = run_suite(tmp_path, "Library    LiveMigLibrary    computs=3")
    assert rc == 2
    message = assert_suite_fails_once_with(
        result,
        console,
        "LiveMigLibrary has no import argument 'computs' (got computs=3).",
        "Did you mean 'computes'?",
        "Its import arguments are: cloud, member_cloud, password, timeout,",
    )
    assert "**" not in message and "unknown" not in message


def test_positional_import_argument_says_to_name_it(tmp_path):
    _, result, console = run_suite(tmp_path, "Library    LiveMigLibrary    devstack")
    assert_suite_fails_once_with(
        result, console, "takes only named import arguments", "write `cloud=devstack`"
    )


def test_bad_import_value_fails_the_suite_once_too(tmp_path):
    _, result, console = run_suite(tmp_path, "Library    LiveMigLibrary    computes=0")
    assert_suite_fails_once_with(result, console, "Argument 'computes' got 0")


def test_outside_robot_wrong_import_arguments_raise_at_once():
    with pytest.raises(UnknownImportArgument, match="Did you mean 'fake_clock'"):
        LiveMigLibrary(fake_clok="manual")
    with pytest.raises(InvalidArgument, match="only named import arguments"):
        LiveMigLibrary("devstack")


def write_clouds_yaml(tmp_path, *names: str):
    path = tmp_path / "clouds.yaml"
    path.write_text(
        "clouds:\n"
        + "".join(f"  {n}:\n    auth: {{auth_url: 'http://127.0.0.1:9/identity'}}\n" for n in names)
    )
    return path


def test_unknown_cloud_fails_the_suite_once_listing_file_and_clouds(tmp_path):
    clouds = write_clouds_yaml(tmp_path, "devstack", "devstack-admin")
    _, result, console = run_suite(
        tmp_path,
        "Library    LiveMigLibrary    cloud=devstak",
        env={"OS_CLIENT_CONFIG_FILE": str(clouds)},
    )
    message = assert_suite_fails_once_with(
        result,
        console,
        "Cloud 'devstak' given as `cloud` is not defined.",
        f"It is in no clouds.yaml read: {clouds} defines devstack, devstack-admin.",
        "Did you mean 'devstack'?",
        "set OS_CLIENT_CONFIG_FILE",
    )
    assert "refused" not in message


def test_later_suites_failing_the_same_import_point_to_the_first_one(tmp_path):
    """A wrong `--variable CLOUD:` fails every suite of a run: the first suite shows the
    whole message, later ones its first sentence and the suite to read, and the next run
    (the same process) shows the whole message again."""
    clouds = write_clouds_yaml(tmp_path, "devstack")
    folder = tmp_path / "suites"
    folder.mkdir()
    for name in ("a_first", "b_second"):
        (folder / f"{name}.robot").write_text(
            "*** Settings ***\nLibrary    LiveMigLibrary    cloud=devstak\n\n"
            "*** Test Cases ***\nOne\n    Get Compute Hosts\nTwo\n    Get Run Prefix\n"
        )
    for run in (1, 2):
        env = {"OS_CLIENT_CONFIG_FILE": str(clouds)}
        _, result, _ = run_robot(folder, tmp_path / f"run{run}", env)
        first, second = result.suite.suites
        assert "Did you mean 'devstack'?" in first.setup.message
        assert f"{clouds} defines devstack" in first.setup.message
        assert second.setup.message == (
            "Library import failed: Cloud 'devstak' given as `cloud` is not defined. The "
            "same import failure as in suite 'Suites.A First', whose failure says what to do."
        )
        for test in second.tests:
            assert test.message == "Parent suite setup failed:\n" + second.setup.message


def test_unknown_cloud_from_os_cloud_and_unknown_member_cloud(tmp_path, monkeypatch):
    clouds = write_clouds_yaml(tmp_path, "prod")
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(clouds))
    monkeypatch.setenv("OS_CLOUD", "staging")
    with pytest.raises(UnknownCloud, match=r"'staging'.*from the OS_CLOUD environment variable"):
        LiveMigLibrary()
    monkeypatch.delenv("OS_CLOUD")
    with pytest.raises(UnknownCloud, match="Cloud 'demo' given as `member_cloud`.*defines prod"):
        LiveMigLibrary(cloud="prod", member_cloud="demo")
    LiveMigLibrary(cloud="prod")  # a defined cloud imports; nothing is contacted yet


def test_keywords_of_a_failed_import_fail_with_the_import_error(monkeypatch):
    monkeypatch.setattr("LiveMigLibrary.importing.running_in_robot", lambda: True)
    library = LiveMigLibrary(computs="3")
    with pytest.raises(LibraryImportFailed, match="no import argument 'computs'"):
        library.get_run_prefix()
    library.delete_created_resources()  # nothing was created, nothing to fail about
    library.close()


@pytest.fixture
def fake_lib():
    library = LiveMigLibrary(computes=2)
    yield library
    library.close()


def test_ambiguous_image_name_lists_the_ids_and_asks_for_one(fake_lib):
    fake_lib.get_compute_hosts()  # starts the fake
    store = fake_lib._ctx.fake.backend.store
    original = next(iter(store.images.values()))
    twin = Image("0b5e7d4c-1111-4222-8333-944455556666", original.name, original.created_at)
    store.images[twin.id] = twin  # a second Glance image of the same name, as real clouds have
    with pytest.raises(AmbiguousName) as error:
        fake_lib.create_servers(count=1, image=original.name)
    message = str(error.value)
    assert f"2 images have that name: {', '.join(sorted([original.id, twin.id]))}." in message
    assert "Pass one of these ids as `image` instead of the name." in message
    assert fake_lib._ctx.tracker.servers == {}  # nothing was created
    server = fake_lib.create_server(image=twin.id)  # an id works
    fake_lib.wait_until_servers_are_active(server)


def test_ambiguous_flavor_name_lists_the_ids_and_asks_for_one(fake_lib):
    """Nova refuses a second flavor of one name, but a cloud whose database has two (or an
    id equal to another's name resolved by name) must not be guessed at."""
    import dataclasses

    fake_lib.get_compute_hosts()  # starts the fake
    store = fake_lib._ctx.fake.backend.store
    original = next(f for f in store.flavors.values() if f.name == "m1.small")
    twin = dataclasses.replace(original, id="m1-small-twin")
    store.flavors[twin.id] = twin
    with pytest.raises(AmbiguousName) as error:
        fake_lib.create_server(flavor="m1.small")
    message = str(error.value)
    ids = ", ".join(sorted([original.id, twin.id]))
    assert f"Argument 'flavor' got 'm1.small', but 2 flavors have that name: {ids}." in message
    assert "Pass one of these ids as `flavor` instead of the name." in message
    assert fake_lib._ctx.tracker.servers == {}  # nothing was created
    fake_lib.wait_until_servers_are_active(fake_lib.create_server(flavor=twin.id))


def test_unprefixed_name_of_a_server_this_run_created(fake_lib):
    server = fake_lib.create_server(name="web")
    assert server.name == f"{fake_lib.get_run_prefix()}-web"
    fake_lib.wait_until_servers_are_active("web")
    assert fake_lib.get_server_host("web") == fake_lib.get_server_host(server)
    with pytest.raises(InvalidArgument) as error:
        fake_lib.get_server_host("db")
    message = str(error.value)
    assert f"this run created {server.name}" in message
    assert f"without the run prefix '{fake_lib.get_run_prefix()}-'" in message


def test_two_servers_of_this_run_with_one_name_are_not_silently_taken_for_one(fake_lib):
    first = fake_lib.create_server(name="web")
    second = fake_lib.create_server(name="web")
    for name in ("web", first.name):
        with pytest.raises(AmbiguousName) as error:
            fake_lib.get_server_host(name)
        assert f"2 servers have that name: {', '.join(sorted([first.id, second.id]))}." in str(
            error.value
        )
    fake_lib.wait_until_servers_are_active(first, second)  # the ids (or the servers) work


def test_cloud_errors_say_what_failed_in_the_clouds_words_and_what_to_do():
    error = CloudError(
        "live-migrate server abc to compute2",
        409,
        "Cannot 'os-migrateLive' instance abc while it is in task_state migrating",
        "POST /compute/v2.1/servers/abc/action",
    )
    assert str(error) == (
        "Could not live-migrate server abc to compute2 (POST /compute/v2.1/servers/abc/action):"
        " the cloud answered HTTP 409: Cannot 'os-migrateLive' instance abc while it is in "
        "task_state migrating. The server is busy or in a state that does not allow this (see "
        "its status and task_state): let a running task end first (Wait Until Servers Are "
        "Active), or bring the server into a state the request allows. When the refusal is what "
        "the test wants, expect it with Live Migration Of Server Should Be Refused."
    )


def test_a_refusal_names_the_keyword_expecting_it_for_that_kind_of_request():
    resize = CloudError(
        "resize server abc to flavor 1", 400, "When resizing, instances must change flavor!"
    )
    # the cloud's "!" is not followed by a "." of ours
    assert "HTTP 400: When resizing, instances must change flavor! The cloud" in str(resize)
    assert "expect it with Move Of Server Should Be Refused." in str(resize)
    assert "Live Migration Of Server Should Be Refused" not in str(resize)
    for action in ("cold-migrate server abc to compute2", "evacuate server abc", "confirm the"
                   " resize of server abc", "revert the resize of server abc"):  # fmt: skip
        assert "Move Of Server Should Be Refused" in str(CloudError(action, 409, "busy"))
    create = str(CloudError("create server 'web'", 400, "Invalid flavorRef"))
    assert create.endswith("The cloud refused the request: fix what its message points to.")
    assert "Should Be Refused" not in create


def test_a_server_the_user_cannot_see_is_not_only_called_nonexistent(fake_lib):
    server = fake_lib.create_server(name="admins")  # in the admin's project
    fake_lib.wait_until_servers_are_active(server)
    fake_lib.use_member_user()
    with pytest.raises(CloudError) as error:
        fake_lib.live_migrate_server(server)
    message = str(error.value)
    assert "HTTP 404" in message
    assert "or the current user cannot see it" in message
    assert "Use Admin User" in message
    fake_lib.use_admin_user()


def test_a_refused_move_names_the_server_as_this_run_knows_it(fake_lib):
    server = fake_lib.create_server(name="web")
    fake_lib.wait_until_servers_are_active("web")
    source = fake_lib.get_server_host(server)
    for move in (
        lambda: fake_lib.live_migrate_server("web", host=source),
        lambda: fake_lib.cold_migrate_server(server, host=source),
    ):
        with pytest.raises(CloudError) as error:
            move()
        assert f"migrate server {server.name} ({server.id}) to {source} (POST " in str(error.value)


def test_a_refused_resize_names_the_flavor_as_the_user_did(fake_lib):
    server = fake_lib.create_server(name="web", flavor="m1.tiny")
    fake_lib.wait_until_servers_are_active(server)
    flavor_id = fake_lib._ctx.client.find_flavor_id("m1.tiny")
    with pytest.raises(CloudError) as error:
        fake_lib.resize_server(server, "m1.tiny")  # Nova: "instances must change flavor!"
    assert f"Could not resize server {server} to flavor m1.tiny ({flavor_id}) (POST " in str(
        error.value
    )


def test_no_migration_record_says_whether_the_server_was_ever_moved(fake_lib):
    server = fake_lib.create_server(name="still")
    fake_lib.wait_until_servers_are_active(server)
    with pytest.raises(CheckFailed, match="has no migration record: it has not been moved"):
        fake_lib.get_migration_of_server(server)
    fake_lib.live_migrate_server(server)
    fake_lib.wait_until_migration_of_server_is(server, "completed")
    fake_lib.watch_for_new_migration_of_server(server)  # a move about to be sent otherwise
    with pytest.raises(CheckFailed, match="no migration record newer than the 1 it had"):
        fake_lib.get_migration_of_server(server)


def test_a_force_complete_too_early_says_which_status_it_needs(fake_lib):
    server = fake_lib.create_server(name="early")
    fake_lib.wait_until_servers_are_active(server)
    fake_lib.set_fake_cloud_durations(preparing=100)
    fake_lib.live_migrate_server(server)
    fake_lib.wait_until_migration_of_server_is(server, "preparing")
    with pytest.raises(CloudError) as error:
        fake_lib.force_complete_migration_of_server(server)
    message = str(error.value)
    assert message.startswith("Could not force-complete migration ")
    assert f"of server {server} (POST " in message  # named as this run knows it
    assert "force-completes a live migration only while it is `running`" in message
    assert "Wait Until Migration Of Server Is" in message
    assert "fix what its message points to" not in message


def test_a_misspelled_choice_gets_the_closest_suggested(fake_lib):
    server = fake_lib.create_server(name="web")
    cases = [
        (lambda: fake_lib.wait_until_migration_of_server_is(server, "complete"), "completed"),
        (lambda: fake_lib.live_migrate_server(server, block_migration="ture"), "true"),
        (lambda: fake_lib.create_server(flavor="m1.tinny"), "m1.tiny"),
        (lambda: fake_lib.get_server_host("webb"), "web"),
        (lambda: fake_lib.disable_compute_service("compute22"), "compute2"),
    ]
    for call, meant in cases:
        with pytest.raises(InvalidArgument) as error:
            call()
        assert str(error.value).endswith(f". Did you mean '{meant}'?"), str(error.value)
    for call in (
        lambda: fake_lib.get_server_host("db"),  # nothing close: no guess
        lambda: fake_lib.disable_compute_service("compute9"),  # as close to each: no guess
    ):
        with pytest.raises(InvalidArgument) as error:
            call()
        assert "Did you mean" not in str(error.value), str(error.value)


def test_unreachable_cloud_fails_once_with_what_to_check(tmp_path):
    clouds = tmp_path / "clouds.yaml"
    clouds.write_text(
        "clouds:\n  devstack:\n    auth: {auth_url: 'http://127.0.0.1:9/identity', username: a,"
        " password: b, project_name: c, user_domain_name: Default,"
        " project_domain_name: Default}\n"
    )
    _, result, console = run_suite(
        tmp_path,
        "Library    LiveMigLibrary    cloud=devstack",
        {"OS_CLIENT_CONFIG_FILE": str(clouds)},
        second="Get Compute Hosts",
    )
    # the failure comes once, through the library's error: no keystoneauth warning first
    assert "[ WARN ]" not in console, console
    assert console.count("Could not connect to cloud 'devstack'") == 2, console  # per test
    first, second = result.suite.tests
    assert (first.status, second.status) == ("FAIL", "FAIL"), (first.message, second.message)
    assert first.message.startswith("Could not connect to cloud 'devstack' (authenticate): ")
    assert "http://127.0.0.1:9/identity" in first.message
    assert first.message.endswith(
        "Check the cloud's auth_url in clouds.yaml and that it is reachable from this machine."
    )
    assert second.message.startswith(
        "Connecting to cloud 'devstack' failed before in this suite, so it is not tried again: "
    )
    assert "refused to" not in first.message


def test_wrong_password_says_to_check_the_credentials(tmp_path, monkeypatch):
    from LiveMigLibrary.fake import FakeCloud

    with FakeCloud(computes=1) as cloud:
        config = cloud.cloud_config(True)
        config["auth"]["password"] = "wrong"
        clouds = tmp_path / "clouds.yaml"
        clouds.write_text(json.dumps({"clouds": {"fake-admin": config}}))
        monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(clouds))
        library = LiveMigLibrary(cloud="fake-admin")
        with pytest.raises(CloudError) as error:
            library.get_compute_hosts()
        message = str(error.value)
        assert message.startswith("Could not connect to cloud 'fake-admin' (authenticate): ")
        assert "the cloud answered HTTP 401" in message
        assert "Check the credentials of this cloud in clouds.yaml" in message
        with pytest.raises(LiveMigError, match="failed before in this suite"):
            library.get_compute_hosts()


def test_set_fake_cloud_durations_names_every_phase_with_its_default(fake_lib):
    """A new user cannot guess the phases from "those of the fake's durations()"."""
    import re

    doc = KEYWORDS["Set Fake Cloud Durations"].doc
    durations = fake_lib.get_fake_cloud_durations()
    for phase, seconds in durations.items():
        assert re.search(rf"`{phase}` {seconds:g}\b", doc), f"{phase} ({seconds:g}) undocumented"
    with pytest.raises(InvalidArgument) as error:
        fake_lib.set_fake_cloud_durations(live_migration=600)  # a natural first guess
    assert "phases of the fake: abort, action, build," in str(error.value)
    with pytest.raises(InvalidArgument, match="Did you mean 'running'"):
        fake_lib.set_fake_cloud_durations(runing=600)


def test_no_clouds_yaml_found_names_the_folders_searched_once_each():
    from types import SimpleNamespace

    from LiveMigLibrary.importing import unknown_cloud_message

    folders = ["/work/x", "/home/qa/.config/openstack", "/etc/openstack"]
    names = ["clouds.yaml", "clouds.yml", "clouds.json"]
    config = SimpleNamespace(
        config_filename=None,
        secure_config_filename=None,
        _config_files=[f"{folder}/{name}" for folder in folders for name in names],
    )
    message = unknown_cloud_message("cloud", "devstack", config, [])
    assert (
        "No clouds.yaml was found (openstacksdk looked in /work/x, /home/qa/.config/openstack"
        " and /etc/openstack for clouds.yaml, clouds.yml or clouds.json). Write a clouds.yaml"
        " defining it in one of those places, or set OS_CLIENT_CONFIG_FILE"
    ) in message


def test_a_missing_or_unreadable_os_client_config_file_is_named(tmp_path, monkeypatch):
    from types import SimpleNamespace

    from LiveMigLibrary.importing import unknown_cloud_message

    missing = str(tmp_path / "nowhere" / "clouds.yaml")
    standard = [f"/etc/openstack/{name}" for name in ("clouds.yaml", "clouds.yml", "clouds.json")]
    config = SimpleNamespace(
        config_filename=None, secure_config_filename=None, _config_files=[missing, *standard]
    )
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", missing)
    message = unknown_cloud_message("cloud", "devstack", config, [])
    # the file named is not taken for a folder searched for every standard name
    assert (
        f"No clouds.yaml was found (openstacksdk looked for {missing}, and in /etc/openstack "
        f"for clouds.yaml, clouds.yml or clouds.json); OS_CLIENT_CONFIG_FILE names {missing}, "
        "which does not exist."
    ) in message
    broken = tmp_path / "broken.yaml"
    broken.write_text("clouds:\n  a: [\n")
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(broken))
    config._config_files = [str(broken), *standard]
    message = unknown_cloud_message("cloud", "devstack", config, [])
    assert (
        f"No clouds.yaml could be read: openstacksdk skipped {broken} (its warning says why)."
        " Fix that file, or set OS_CLIENT_CONFIG_FILE to a clouds.yaml that defines it"
    ) in message
    assert "No clouds.yaml was found" not in message
