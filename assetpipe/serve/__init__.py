"""Serving a STATIC_ROOT built by assetpipe: nginx configuration (``manage.py assetpipe nginx``).

WhiteNoise needs nothing from here: its middleware serves assetpipe's output as it is.
"""
