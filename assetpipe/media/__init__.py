"""Tenant media: user uploads on S3, one private key prefix per tenant."""

from assetpipe.extras import require

# Before the storage module imports django-storages and botocore.
require("media")

from assetpipe.media.storage import TenantConfigurationError, TenantMediaStorage  # noqa: E402

__all__ = ["TenantConfigurationError", "TenantMediaStorage"]
