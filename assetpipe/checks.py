"""Django system checks for assetpipe's settings."""
