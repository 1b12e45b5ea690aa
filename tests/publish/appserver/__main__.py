"""Serve the app on a free loopback port; print the port once it is listening."""

from __future__ import annotations

import os
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.publish.appserver.settings")
    from django.core.files.storage import storages
    from django.core.wsgi import get_wsgi_application

    application = get_wsgi_application()
    # Load the manifest now, as a real deployment's wsgi.py should: a pinned build that the
    # bucket does not hold stops the process here, not at its first request.
    storages["staticfiles"]  # builds the storage, which reads the manifest
    server = make_server("127.0.0.1", 0, application, handler_class=QuietHandler)
    print(server.server_port, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
