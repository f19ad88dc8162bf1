"""Every keyword is documented in the project's Markdown style with a runnable example."""

import json
import re
from pathlib import Path

import pytest
from robot.libdocpkg import LibraryDocumentation

LIBDOC = LibraryDocumentation("LiveMigLibrary")
KEYWORDS = {kw.name: kw for kw in LIBDOC.keywords}


def test_library_is_suite_scoped_markdown_and_has_keyword_only_typed_import():
    assert LIBDOC.scope == "SUITE"
    assert LIBDOC.doc_format == "MARKDOWN"
    init_args = {arg.name: arg for arg in LIBDOC.inits[0].args}
    assert init_args["timeout"].kind == "NAMED_ONLY"
    assert "timedelta" in str(init_args["poll_interval"].type)


@pytest.mark.parametrize("name", sorted(KEYWORDS))
def test_keyword_doc_has_example_args_and_returns(name):
    keyword = KEYWORDS[name]
    doc = keyword.doc
    assert "```robotframework" in doc
    assert "*** Test Cases ***" in doc or "*** Settings ***" in doc
    # Libdoc moves the `Args:` and `Returns:` sections onto the arguments and return value.
    for argument in keyword.args.argument_names:
        assert keyword.args.docs.get(argument), f"{name}: argument {argument} undocumented"
    if keyword.args.return_type is not None and str(keyword.args.return_type) != "None":
        assert keyword.args.return_doc, f"{name}: return value undocumented"
    assert name.replace("REST", "Rest").istitle()


def _libdoc_data(html: str) -> dict:
    start = html.index("libdoc = ") + len("libdoc = ")
    data, _ = json.JSONDecoder().raw_decode(html[start:])
    keywords = {kw["name"]: (kw["doc"], [a["repr"] for a in kw["args"]]) for kw in data["keywords"]}
    return {"(introduction)": (data["doc"], []), **keywords}


ROOT = Path(__file__).resolve().parents[2]
RESOURCE = ROOT / "resources" / "livemig.resource"


@pytest.mark.parametrize(
    ("source", "html", "command"),
    [
        (
            "LiveMigLibrary",
            "LiveMigLibrary.html",
            "python -m robot.libdoc --name LiveMigLibrary LiveMigLibrary docs/LiveMigLibrary.html",
        ),
        (
            str(RESOURCE),
            "livemig.resource.html",
            "python -m robot.libdoc --docformat MARKDOWN resources/livemig.resource "
            "docs/livemig.resource.html",
        ),
    ],
)
def test_committed_libdoc_html_is_up_to_date(tmp_path, source, html, command):
    """docs/*.html must be regenerated whenever a keyword or its doc changes."""
    from robot.libdoc import libdoc

    committed = ROOT / "docs" / html
    fresh = tmp_path / html
    options = {"name": "LiveMigLibrary"} if source == "LiveMigLibrary" else {"format": "HTML"}
    if source != "LiveMigLibrary":
        options["docformat"] = "MARKDOWN"
    libdoc(source, str(fresh), quiet=True, **options)
    old, new = _libdoc_data(committed.read_text()), _libdoc_data(fresh.read_text())
    stale = sorted(n for n in old.keys() | new.keys() if old.get(n) != new.get(n))
    assert not stale, (
        f"docs/{html} is stale for: " + ", ".join(stale) + f". Regenerate it: {command}"
    )


def test_resource_keywords_are_documented_and_linked_from_the_readme():
    resource = LibraryDocumentation(str(RESOURCE))
    assert resource.keywords
    for keyword in resource.keywords:
        assert len(keyword.doc.split()) >= 5, f"{keyword.name}: no real documentation"
    # the keywords it is built from are a click away, and the example suites it names exist
    assert "[LiveMigLibrary.html](LiveMigLibrary.html)" in resource.doc
    examples = re.findall(r"`(suites/[\w.]+\.robot)`", resource.doc)
    assert examples and all((ROOT / suite).is_file() for suite in examples), examples
    readme = (ROOT / "README.md").read_text()
    assert "(docs/LiveMigLibrary.html)" in readme
    assert "(docs/livemig.resource.html)" in readme
