from django.apps import AppConfig


class WebConfig(AppConfig):
    """Web plumbing shared by the apps' pages: mixins, middleware, context processors, template tags."""

    name = "fanpin.web"
    label = "fanpin_web"
    verbose_name = "页面框架"
