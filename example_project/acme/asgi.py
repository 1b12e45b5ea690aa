"""ASGI entry point for ``uvicorn acme.asgi:application`` or any other ASGI server.

Set ``ACME_SERVER=servestatic`` to serve the static files with ServeStatic's async middleware
(settings.py) and the pages with preload ``Link`` headers; ``EarlyHints`` sends those as a 103
where the server offers one.
"""

import os

from django.core.asgi import get_asgi_application

from assetpipe.serve.early_hints import EarlyHints

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "acme.settings")
application = EarlyHints(get_asgi_application())
