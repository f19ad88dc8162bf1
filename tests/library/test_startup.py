"""What the library costs a `robot` process beyond its own work (LiveMigLibrary/startup.py).

Each check runs in a fresh interpreter: imports and exit handlers are per process.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import textwrap

import pytest


def run_python(code: str, tmp_path=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )


def printed(code: str, tmp_path=None) -> list[str]:
    """The lines ``code`` prints in a fresh interpreter, which must exit 0."""
    done = run_python(code, tmp_path)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def installed(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


def test_openstacksdk_is_imported_at_the_first_cloud_call_not_with_the_library():
    assert printed(
        """
        import sys
        from LiveMigLibrary import LiveMigLibrary
        from LiveMigLibrary.errors import LiveMigError
        print("with the library:", "openstack" in sys.modules)
        try:
            LiveMigLibrary(computs=3)
        except LiveMigError as error:
            print("misspelled argument:", type(error).__name__, "openstack" in sys.modules)
        lib = LiveMigLibrary(computes=1)
        print("configured:", "openstack" in sys.modules)
        hosts = lib.get_compute_hosts()
        print("first keyword:", hosts, "openstack" in sys.modules)
        lib.close()
        """
    ) == [
        "with the library: False",
        "misspelled argument: UnknownImportArgument False",
        "configured: False",
        "first keyword: ['compute1'] True",
    ]


@pytest.mark.skipif(not installed("netaddr"), reason="netaddr is not installed")
def test_netaddr_runs_only_when_used_and_then_works():
    assert printed(
        """
        import sys
        import LiveMigLibrary
        import keystoneauth1.session  # imports netaddr when it is installed
        import netaddr
        print("loaded after import:", "netaddr.core" in sys.modules)
        print(netaddr.IPAddress("10.0.0.1") + 1, type(sys.modules["netaddr"]).__name__)
        from netaddr import IPNetwork
        print(IPNetwork("10.0.0.0/24").size)
        """
    ) == ["loaded after import: False", "10.0.0.2 module", "256"]


@pytest.mark.skipif(not installed("psutil"), reason="psutil is not installed")
def test_the_embedded_fake_connection_never_loads_psutil():
    assert printed(
        """
        import sys
        from LiveMigLibrary.fake import FakeCloud
        with FakeCloud(computes=1) as cloud:
            conn = cloud.connect()
            services = list(conn.compute.services())
        print(len(services) > 0, conn.config.force_ipv4, "psutil._common" in sys.modules)
        import psutil
        print(psutil.cpu_count() >= 1)
        """
    ) == ["True True False", "True"]


def test_a_deferred_module_that_fails_fails_like_an_import(tmp_path):
    (tmp_path / "broken_optional.py").write_text("raise ImportError('broken on purpose')\n")
    assert printed(
        """
        import sys
        from LiveMigLibrary.startup import defer_optional_imports
        print(defer_optional_imports(("broken_optional", "no_such_module_at_all")))
        import broken_optional  # deferred: nothing runs yet
        try:
            broken_optional.anything
        except ImportError as error:
            print("ImportError:", error)
        print("broken_optional" in sys.modules)
        """,
        tmp_path,
    ) == [
        "['broken_optional']",
        "ImportError: broken on purpose",
        "False",
    ]


def test_at_exit_garbage_is_still_finalized_and_the_rest_frozen(tmp_path):
    out = tmp_path / "finalized.txt"
    done = run_python(
        f"""
        import atexit, gc
        # registered first, so it runs after the library's exit handler
        atexit.register(lambda: print("frozen:", gc.get_freeze_count() > 0))
        import LiveMigLibrary

        class Holder:
            def __del__(self):
                with open({str(out)!r}, "w") as f:
                    f.write("finalized")

        cycle = Holder()
        cycle.me = cycle  # only the garbage collector can free it
        del cycle
        gc.disable()  # it is still garbage when the interpreter exits
        """
    )
    assert done.returncode == 0, done.stderr
    assert out.read_text() == "finalized"
    assert done.stdout.strip() == "frozen: True"


def test_code_is_frozen_before_the_first_connection_and_what_the_run_makes_is_not():
    """Full collections skip the modules' objects (frozen at the library's import and just
    before the first connection), while the fake cloud, the connection and the servers a
    run makes stay collectable; a second connection freezes nothing more."""
    assert printed(
        """
        import gc
        from LiveMigLibrary import LiveMigLibrary
        import LiveMigLibrary.library as library_module
        after_import = gc.get_freeze_count()

        def tracked(obj):
            return any(o is obj for o in gc.get_objects())

        lib = LiveMigLibrary(computes=1)
        lib.get_compute_hosts()
        import openstack.connection, LiveMigLibrary.fake as fake_package
        print("library code frozen:", after_import > 0, not tracked(library_module.LiveMigLibrary))
        print("openstacksdk and fake code frozen:",
              not tracked(openstack.connection.Connection), not tracked(fake_package.FakeCloud))
        print("run objects collectable:", tracked(lib._ctx.fake), tracked(lib._ctx.admin.conn))
        frozen = gc.get_freeze_count()
        lib.close()
        other = LiveMigLibrary(computes=1)
        other.get_compute_hosts()
        print("second connection freezes nothing:", gc.get_freeze_count() == frozen)
        other.close()
        print("collections on again:", gc.isenabled())
        """
    ) == [
        "library code frozen: True True",
        "openstacksdk and fake code frozen: True True",
        "run objects collectable: True True",
        "second connection freezes nothing: True",
        "collections on again: True",
    ]


def test_imports_run_without_collections_and_leave_them_as_they_were():
    assert printed(
        """
        import gc
        from LiveMigLibrary.startup import importing_code
        seen = []
        gc.callbacks.append(lambda phase, info: seen.append(phase))
        with importing_code("a test's imports"):
            enabled_inside = gc.isenabled()
            garbage = [[] for _ in range(100_000)]  # would trigger young collections
        print("inside:", enabled_inside, "collections:", len(seen), "after:", gc.isenabled())
        print("frozen:", any(o is garbage for o in gc.get_objects()) is False)
        gc.disable()
        with importing_code("other imports"):
            pass
        print("a disabled collector stays disabled:", not gc.isenabled())
        gc.enable()
        with importing_code("a test's imports"):  # once per process: now it just runs
            print("second time, collections on:", gc.isenabled())
        """
    ) == [
        "inside: False collections: 0 after: True",
        "frozen: True",
        "a disabled collector stays disabled: True",
        "second time, collections on: True",
    ]


def test_provider_hosts_are_read_once_and_again_for_a_new_host():
    """Placement checks and the evidence share one provider -> host map per connection;
    a provider it does not know yet (a host added since) makes it read the map again."""
    from LiveMigLibrary import LiveMigLibrary

    lib = LiveMigLibrary(computes=2)
    try:
        server = lib.create_server(name="rp")
        lib.wait_until_servers_are_active(server)
        host = lib.get_server_host(server)
        admin = lib._ctx.admin
        reads = []
        for name in ("resource_provider_names", "hypervisor_names_by_host"):
            original = getattr(admin, name)

            def counted(original=original, name=name):
                reads.append(name)
                return original()

            setattr(admin, name, counted)
        for _ in range(3):
            assert list(lib.get_allocations_of_consumer(server)) == [host]
            lib.allocations_of_consumer_should_be_on_host(server, host)
        assert reads == ["resource_provider_names", "hypervisor_names_by_host"]

        lib.add_fake_compute_host("late")
        lib.live_migrate_server(server, host="late")
        lib.wait_until_migration_of_server_is(server, "completed")
        assert list(lib.get_allocations_of_consumer(server)) == ["late"]
        assert len(reads) == 4  # read again once: the provider of 'late' was not known
        assert lib.get_host_usage("late")["VCPU"] == 1
        assert len(reads) == 4
    finally:
        lib.close()
