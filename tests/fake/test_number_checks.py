"""Every number the fake takes goes through one checker (fake/numeric.py), so its callers
agree at the edges: the same value is taken, or refused with the same wording, by a
capacity option, a [libvirt] option, a phase duration, the clock and a guest's workload.

The rules are oslo.config's (IntOpt/FloatOpt with Nova's min), checked here against
oslo.config itself where the fake follows it.
"""

from __future__ import annotations

import pytest
from oslo_config import types

from LiveMigLibrary.fake import FakeCloud
from LiveMigLibrary.fake.config import Durations, LibvirtOptions, NovaOptions
from LiveMigLibrary.fake.guest import Workload

EDGES = ("+5", " 5 ", "5.0", "nan", "inf", "-0", "1e3", True, "", 7.0, 1.5, "five", None)


def _options(cls, name):
    def set_(value):
        options = cls()
        options.update(**{name: value})
        return getattr(options, name)

    return set_


def _duration(value):
    durations = Durations()
    durations.update(build=value)
    return durations.build


def _advance(value):
    return FakeCloud(computes=0).control.advance(value)


def _link(value):
    control = FakeCloud(computes=0).control
    control.set_link_bandwidth(value)
    return control.links()["default_mib"]


# name in the refusal, how to set it, whole number?, empty/None is "not set"?, minimum,
# exclusive lower bound, the oslo.config type of its nova.conf option (None: not nova.conf)
CALLERS = {
    "capacity int": (
        "reserved_host_cpus",
        _options(NovaOptions, "reserved_host_cpus"),
        True,
        False,
        0,
        None,
        types.Integer(min=0),
    ),
    "capacity ratio": (
        "cpu_allocation_ratio",
        _options(NovaOptions, "cpu_allocation_ratio"),
        False,
        True,
        0,
        None,
        types.Float(min=0.0),
    ),
    "initial ratio": (
        "initial_ram_allocation_ratio",
        _options(NovaOptions, "initial_ram_allocation_ratio"),
        False,
        False,
        0,
        None,
        types.Float(min=0.0),
    ),
    "resize_confirm_window": (
        "resize_confirm_window",
        _options(NovaOptions, "resize_confirm_window"),
        True,
        False,
        0,
        None,
        types.Integer(min=0),
    ),
    "libvirt": (
        "live_migration_completion_timeout",
        _options(LibvirtOptions, "live_migration_completion_timeout"),
        True,
        False,
        0,
        None,
        types.Integer(min=0),
    ),
    "duration": ("duration of 'build'", _duration, False, False, 0, None, None),
    "clock advance": ("seconds", _advance, False, False, 0, None, None),
    "dirty rate": (
        "dirty_rate_mib",
        lambda v: Workload.checked(dirty_rate_mib=v).dirty_rate_mib,
        False,
        False,
        0,
        None,
        None,
    ),
    "working set": (
        "working_set_mib",
        lambda v: Workload.checked(0, v).working_set_mib,
        False,
        True,
        0,
        None,
        None,
    ),
    "link bandwidth": ("bandwidth_mib", _link, False, True, None, 0, None),
    "cloud link bandwidth": (
        "link_bandwidth_mib",
        lambda v: FakeCloud(computes=0, link_bandwidth_mib=v).backend.network.default_mib,
        False,
        True,
        None,
        0,
        None,
    ),
}


def expected(value, whole, none, minimum, above):
    """The one set of rules, written out: the number a caller keeps, or None and False
    for a refusal (see fake/numeric.py for where each rule comes from)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return (None, True) if none else (None, False)
    if isinstance(value, bool):
        return None, False
    if isinstance(value, str):
        try:
            value = int(value) if whole else float(value)
        except ValueError:
            return None, False
    if value != value or value in (float("inf"), float("-inf")):
        return None, False
    if whole and value != int(value):
        return None, False
    value = int(value) if whole else float(value)
    if (minimum is not None and value < minimum) or (above is not None and value <= above):
        return None, False
    return value, True


@pytest.mark.parametrize("value", EDGES, ids=repr)
@pytest.mark.parametrize("caller", CALLERS)
def test_every_caller_takes_or_refuses_an_edge_alike(caller, value):
    name, set_, whole, none, minimum, above, _ = CALLERS[caller]
    want, ok = expected(value, whole, none, minimum, above)
    if ok:
        got = set_(value)
        assert got == want and type(got) is type(want)
        assert str(got) != "-0.0"
    else:
        with pytest.raises(ValueError) as error:
            set_(value)
        message = str(error.value)
        assert message.startswith(f"{name} must be a ")
        assert message.endswith(f", got {value!r}")
        assert ("whole number" in message) is whole
        if none:
            assert "or empty for none" in message


def test_the_rules_on_plus_five_blank_and_five_point_zero():
    """The review's example, said plainly: "+5" was a capacity option and not a [libvirt]
    one; now both take it, as oslo.config's int() does, and neither takes "5.0"."""
    assert _options(NovaOptions, "reserved_host_cpus")("+5") == 5
    assert _options(LibvirtOptions, "live_migration_completion_timeout")("+5") == 5
    assert _options(LibvirtOptions, "live_migration_downtime")(" 500 ") == 500
    for set_ in (
        _options(NovaOptions, "reserved_host_cpus"),
        _options(LibvirtOptions, "live_migration_completion_timeout"),
    ):
        with pytest.raises(ValueError, match="must be a whole number of at least 0, got '5.0'"):
            set_("5.0")


@pytest.mark.parametrize(
    "text", ["+5", " 5 ", "5.0", "-0", "1e3", "", "none", "five", "-1", " 5 6"]
)
@pytest.mark.parametrize(
    "caller", [c for c, spec in CALLERS.items() if spec[6] is not None], ids=str
)
def test_nova_conf_options_read_text_as_oslo_config_does(caller, text):
    """nova.conf text: the fake takes what oslo.config's IntOpt/FloatOpt with Nova's min
    takes, as the same number, and refuses what it refuses. Empty text is oslo.config's
    None: "not set" for a ratio that defers to its initial_* option, refused where Nova
    needs a number."""
    _, set_, _, none, _, _, oslo_type = CALLERS[caller]
    try:
        oslo = oslo_type(text)
    except ValueError:
        oslo = ValueError
    if oslo is None and not none:
        oslo = ValueError  # no number where Nova's code needs one
    if oslo is ValueError:
        with pytest.raises(ValueError):
            set_(text)
    else:
        assert set_(text) == oslo


@pytest.mark.parametrize("text", ["nan", "inf"])
def test_non_finite_ratios_are_refused_though_oslo_config_loads_them(text):
    """A deliberate refusal (fake/numeric.py): FloatOpt(min=0.0) loads "nan" and "inf",
    but no compute could report such an allocation_ratio to placement."""
    assert types.Float(min=0.0)(text) != 1.0  # oslo.config takes it
    with pytest.raises(ValueError, match=f"cpu_allocation_ratio must be .*, got '{text}'"):
        _options(NovaOptions, "cpu_allocation_ratio")(text)


def test_resize_confirm_window_is_whole_seconds_as_nova_declares_it():
    """Nova's resize_confirm_window is an IntOpt(min=0): 1.5 seconds was taken before."""
    set_ = _options(NovaOptions, "resize_confirm_window")
    assert set_(60) == 60 and set_("60") == 60
    with pytest.raises(ValueError, match="resize_confirm_window must be a whole number"):
        set_(1.5)


def test_seconds_take_numeric_text_and_stop_at_a_year():
    """Durations and the clock read text as a FloatOpt does (they refused any text
    before), within 0 to a year of virtual seconds."""
    assert _duration("2.5") == 2.5
    assert _duration(365 * 24 * 3600) == 365 * 24 * 3600.0
    with pytest.raises(ValueError, match="from 0 to 31536000, got 31536001"):
        _duration(365 * 24 * 3600 + 1)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--duration", "build=nan"],
            "duration of 'build' must be a finite number of seconds from 0 to 31536000, got 'nan'",
        ),
        (
            ["--libvirt", "live_migration_downtime=5.0"],
            "live_migration_downtime must be a whole number of at least 100, got '5.0'",
        ),
        (
            ["--nova-option", "resize_confirm_window=1e3"],
            "resize_confirm_window must be a whole number of seconds of at least 0, got '1e3'",
        ),
        (
            ["--nova-option", "reserved_host_cpus=1e3"],
            "reserved_host_cpus must be a whole number of at least 0, got '1e3'",
        ),
    ],
)
def test_the_command_line_refuses_with_the_same_words(capsys, monkeypatch, argv, message):
    from LiveMigLibrary.fake import cli

    # a value taken by mistake must fail the test, not serve a cloud until interrupted
    monkeypatch.setattr(cli.FakeCloud, "start", lambda self: pytest.fail(f"{argv} was taken"))
    assert cli.main(["--computes", "0", *argv]) == 2
    assert message in capsys.readouterr().err
