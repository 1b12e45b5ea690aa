"""AssetPipeStorage: Django's manifest storage, made incremental, precompressed and publishable."""

from __future__ import annotations

from django.contrib.staticfiles.storage import ManifestStaticFilesStorage


class AssetPipeStorage(ManifestStaticFilesStorage):
    pass
