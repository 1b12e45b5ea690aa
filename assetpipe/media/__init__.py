"""Tenant media: user uploads on S3, one private key prefix per tenant."""

from assetpipe.media.storage import TenantConfigurationError, TenantMediaStorage

__all__ = ["TenantConfigurationError", "TenantMediaStorage"]
