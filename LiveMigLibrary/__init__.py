"""LiveMigLibrary: Robot Framework keywords for acceptance-testing OpenStack live migration."""

from .library import LiveMigLibrary, __version__

__all__ = ["LiveMigLibrary", "__version__"]
