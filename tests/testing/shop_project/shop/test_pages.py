"""The shop's own tests: its page, rendered and served as in production."""

import re

from django.http import FileResponse
from django.template.loader import render_to_string
from django.test import SimpleTestCase

HASHED_CSS = r"/static/shop/site\.[0-9a-f]{12}\.css"


class PageTests(SimpleTestCase):
    def test_the_page_links_hashed_files_with_integrity(self) -> None:
        html = render_to_string("shop/page.html")
        self.assertRegex(html, f'<link rel="stylesheet" href="{HASHED_CSS}">')
        self.assertRegex(
            html,
            r'<script src="/static/shop/app\.[0-9a-f]{12}\.js" integrity="sha384-[^"]+" '
            r'crossorigin="anonymous" defer></script>',
        )


class StaticFileTests(SimpleTestCase):
    def test_the_hashed_stylesheet_is_served_with_its_references_hashed(self) -> None:
        page = self.client.get("/")
        self.assertEqual(page.status_code, 200)
        match = re.search(HASHED_CSS, page.content.decode())
        assert match is not None
        css = self.client.get(match[0])
        self.assertEqual(css.status_code, 200)
        assert isinstance(css, FileResponse)  # WhiteNoise's
        self.assertRegex(b"".join(css.streaming_content), rb'url\("stripes\.[0-9a-f]{12}\.svg"\)')
