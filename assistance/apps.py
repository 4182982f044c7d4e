from django.apps import AppConfig


class AssistanceConfig(AppConfig):
    name = "assistance"
    verbose_name = "帮扶"

    def ready(self) -> None:
        from assistance.services.dashboard_refresh import dashboard_state_changed
        from fanpin.core.audit import state_change_follower_register

        state_change_follower_register(dashboard_state_changed)
