from django.apps import AppConfig


class FanpinConfig(AppConfig):
    name = "fanpin"
    verbose_name = "用户与权限"
