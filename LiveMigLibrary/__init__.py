"""LiveMigLibrary: Robot Framework keywords for acceptance-testing OpenStack live migration."""

from .startup import defer_optional_imports, importing_code, skip_final_collections

defer_optional_imports()  # before openstacksdk is imported (see startup.py)
skip_final_collections()

with importing_code("library"):  # no collections while importing, then frozen
    from .library import LiveMigLibrary, __version__

__all__ = ["LiveMigLibrary", "__version__"]
