"""The console's static files as a twisted.web.static folder (imported on first use)."""

from __future__ import annotations

from twisted.web import resource, static


class AssetFolder(static.File):
    """The folder of script, style and icon; no directory listings."""

    def directoryListing(self) -> resource.Resource:  # noqa: N802 - Twisted's name
        """No listings."""
        return resource.NoResource("No such file")


def static_folder(path: str) -> AssetFolder:
    """The static folder resource for ``path``."""
    folder = AssetFolder(path, defaultType="application/octet-stream")
    folder.contentTypes.update(
        {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}
    )
    return folder
