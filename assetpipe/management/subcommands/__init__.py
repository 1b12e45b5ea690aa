"""The subcommands of ``manage.py assetpipe``: argument parsing and output, one module per
concern, each calling into the step packages (publish, serve, media, edge) with plain data.

Kept apart from those packages so that the storage, which uses them, never imports a command.
"""
