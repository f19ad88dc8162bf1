"""Every example in the keyword documentation runs, as written, against the embedded fake.

Each keyword's ```robotframework blocks become one suite. The examples may use what the
library's introduction promises them (see "Examples" there): `${server}`, an ACTIVE server
this test created, `${source}`, its host, and `${target}`, another usable host of the
embedded fake cloud with 3 compute hosts; Collections and RequestsLibrary are imported.
All suites run in one `robot` run; every test must pass.
"""

from __future__ import annotations

import re

from robot.libdocpkg import LibraryDocumentation

from .conftest import run_robot

HARNESS_SETTINGS = {
    "Library    LiveMigLibrary": "Library    LiveMigLibrary    computes=3",
    "Library    Collections": "Library    Collections",
    "Library    RequestsLibrary": "Library    RequestsLibrary",
    "Test Setup": "Test Setup    Example Context",
    "Test Teardown": "Test Teardown    Delete Created Resources",
}

HARNESS_KEYWORDS = """
*** Keywords ***
Example Context
    [Documentation]    What the keyword examples may use: ${server}, ${source}, ${target}.
    ${server} =    Create Server    name=example
    Wait Until Servers Are Active    ${server}
    ${source} =    Get Server Host    ${server}
    ${target} =    Get Other Compute Host    ${server}
    VAR    ${server}    ${server}    scope=TEST
    VAR    ${source}    ${source}    scope=TEST
    VAR    ${target}    ${target}    scope=TEST
"""


def examples() -> dict[str, list[str]]:
    library = LibraryDocumentation("LiveMigLibrary")
    return {
        kw.name: re.findall(r"```robotframework\n(.*?)```", kw.doc, flags=re.S)
        for kw in library.keywords
    }


def sections(block: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    current = None
    for line in block.splitlines():
        header = re.match(r"\*\*\*\s*(.+?)\s*\*\*\*", line)
        if header:
            current = header.group(1).title()
            found.setdefault(current, [])
        elif current:
            found[current].append(line)
    return found


def suite_text(blocks: list[str]) -> str:
    settings = dict(HARNESS_SETTINGS)
    tests: list[str] = []
    for block in blocks:
        parts = sections(block)
        for line in parts.get("Settings", []):
            if line.strip():
                name = re.split(r"\s{2,}", line.strip())[0]
                if name in ("Library", "Resource", "Variables"):
                    if "LiveMigLibrary" not in line:  # the harness imports it
                        settings.setdefault(line.strip(), line.strip())
                else:
                    settings[name] = line.strip()
        tests += parts.get("Test Cases", [])
    return (
        "*** Settings ***\n"
        + "\n".join(settings.values())
        + "\n\n*** Test Cases ***\n"
        + "\n".join(tests)
        + "\n"
        + HARNESS_KEYWORDS
    )


def test_every_keyword_has_an_example_with_a_test():
    missing = [name for name, blocks in examples().items() if not any(
        sections(b).get("Test Cases") for b in blocks
    )]  # fmt: skip
    assert not missing, "keywords whose example has no test case: " + ", ".join(missing)


def test_every_keyword_example_runs_against_the_embedded_fake(tmp_path, monkeypatch):
    monkeypatch.delenv("OS_CLOUD", raising=False)
    folder = tmp_path / "examples"
    folder.mkdir()
    names = {}
    for index, (name, blocks) in enumerate(sorted(examples().items())):
        if not blocks:
            continue
        slug = re.sub(r"\W+", "_", name).lower()
        path = folder / f"{index:03d}__{slug}.robot"
        path.write_text(suite_text(blocks))
        names[path.name] = name
    _, result, console = run_robot(folder, tmp_path)
    failed = []
    for suite in result.suite.suites:
        keyword = names[suite.source.name]
        for test in suite.tests:
            if test.status != "PASS":
                failed.append(f"{keyword} / {test.name}: {test.message}")
        if not suite.tests:
            failed.append(f"{keyword}: no test ran")
    assert not failed, "keyword doc examples that fail:\n" + "\n".join(failed)
    assert "[ ERROR ]" not in console, console


def test_introduction_and_import_examples_run(tmp_path, monkeypatch):
    """The introduction's whole suite runs on the embedded fake as written; an example that
    only imports the library (for a real cloud) must at least import with its arguments,
    given a clouds.yaml that defines the clouds it names (nothing is contacted on import)."""
    library = LibraryDocumentation("LiveMigLibrary")
    blocks = [
        *re.findall(r"```robotframework\n(.*?)```", library.doc, flags=re.S),
        *re.findall(r"```robotframework\n(.*?)```", library.inits[0].doc, flags=re.S),
    ]
    clouds = set()
    for block in blocks:
        clouds.update(re.findall(r"cloud=(\S+)", block))
    assert blocks and clouds
    unreachable = "{auth_url: 'http://127.0.0.1:9/identity', username: a, password: b}"
    config = tmp_path / "clouds.yaml"
    config.write_text(
        "clouds:\n" + "".join(f"  {name}:\n    auth: {unreachable}\n" for name in clouds)
    )
    monkeypatch.delenv("OS_CLOUD", raising=False)
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(config))
    folder = tmp_path / "introduction"
    folder.mkdir()
    for index, block in enumerate(blocks):
        if not sections(block).get("Test Cases"):
            block += "\n*** Test Cases ***\nImports\n    No Operation\n"
        (folder / f"example_{index}.robot").write_text(block)
    _, result, console = run_robot(folder, tmp_path)
    tests = list(result.suite.all_tests)
    assert len(tests) == len(blocks)
    failed = [f"{t.parent.name} / {t.name}: {t.message}" for t in tests if t.status != "PASS"]
    assert not failed, "introduction examples that fail:\n" + "\n".join(failed)
    assert "[ ERROR ]" not in console, console
