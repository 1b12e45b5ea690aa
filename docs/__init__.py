"""The documentation site's sources, and the module that writes its reference pages."""
