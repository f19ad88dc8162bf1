"""LiveMigLibrary: Robot Framework keywords for acceptance-testing OpenStack live migration."""

from .startup import defer_optional_imports, freeze_imported, skip_final_collections

defer_optional_imports()  # before openstacksdk is imported (see startup.py)
skip_final_collections()

from .library import LiveMigLibrary, __version__  # noqa: E402

freeze_imported()

__all__ = ["LiveMigLibrary", "__version__"]
