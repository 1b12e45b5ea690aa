"""A small app server for the rolling-deploy test: one page of ``{% static %}`` URLs.

Run as ``python -m tests.publish.appserver``; it reads its bucket, build and template directory
from the environment (see settings.py), binds a free loopback port and prints it.
"""
