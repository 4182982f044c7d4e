from django.apps import AppConfig


class CoreConfig(AppConfig):
    """The kernel: users, roles, regions, scoping, audit, workflow.  Its label stays ``fanpin``, so the
    tables (``fanpin_user``, ``fanpin_auditentry`` …) and the migration history are those of before."""

    name = "fanpin.core"
    label = "fanpin"
    verbose_name = "用户与权限"

    def ready(self) -> None:
        from fanpin.core import checks  # noqa: F401  (registers the deployment checks)
        from fanpin.core.terms import model_names_termed

        model_names_termed()  # models' verbose names in the glossary's words (FANPIN_TERMS)
