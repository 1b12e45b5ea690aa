"""One page, rendered from the BUNDLE_PAGE setting: what a project's base template would hold."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.template import Context, Engine
from django.urls import path

ENGINE = Engine(
    libraries={
        "django_vite": "django_vite.templatetags.django_vite",
        "static": "django.templatetags.static",
        "webpack_loader": "webpack_loader.templatetags.webpack_loader",
    }
)


def page(request: HttpRequest) -> HttpResponse:
    return HttpResponse(ENGINE.from_string(settings.BUNDLE_PAGE).render(Context()))  # type: ignore[misc]  # a test setting


urlpatterns = [path("", page)]
