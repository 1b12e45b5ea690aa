"""The shop's one page: static assets built by assetpipe, and an upload into the tenant's media."""

from __future__ import annotations

from typing import cast

from django import forms
from django.conf import settings
from django.core.files.storage import default_storage
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.text import get_valid_filename

from assetpipe.media import TenantMediaStorage


class UploadForm(forms.Form):
    document = forms.FileField(label="Document")


def index(request: HttpRequest) -> HttpResponse:
    uploaded: dict[str, str] | None = None
    if request.method == "POST":
        form = UploadForm(request.POST, request.FILES)
        if form.is_valid():
            document = form.cleaned_data["document"]
            media = cast(TenantMediaStorage, default_storage)  # settings.STORAGES["default"]
            # The storage puts this under media/<tenant>/ and returns the name within it.
            name = media.save(f"uploads/{get_valid_filename(document.name)}", document)
            uploaded = {"name": name, "key": media.key(name), "url": media.url(name)}
            form = UploadForm()
    else:
        form = UploadForm()
    return render(
        request,
        "acme/index.html",
        {"form": form, "uploaded": uploaded, "tenant": settings.TENANT},
    )
