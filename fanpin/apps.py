from django.apps import AppConfig


class FanpinConfig(AppConfig):
    name = "fanpin"
    verbose_name = "用户与权限"

    def ready(self) -> None:
        from fanpin import checks  # noqa: F401  (registers the deployment checks)
