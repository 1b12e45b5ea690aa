from django.apps import AppConfig


class AssetPipeConfig(AppConfig):
    name = "assetpipe"
    verbose_name = "assetpipe"

    def ready(self) -> None:
        # Registers the system checks.
        from assetpipe import checks  # noqa: F401
