"""AVIF and WebP variants of raster images, a step beside compression (the ``images`` option).

``settings``: the option, validated; ``step``: grouping by content, reuse, placing and removing
variants; ``encode``: Pillow, imported only when there is an image to encode; ``cache``: encoded
bytes outside STATIC_ROOT; ``manifest``: what ``staticfiles.json`` tells the template tags.
"""
