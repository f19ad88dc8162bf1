"""Every keyword is documented in the project's Markdown style with a runnable example."""

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
