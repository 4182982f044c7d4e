"""The administrator-level actor the benchmark exports as (same as ``export_xlsx`` without --user)."""

from monitoring.management.commands.export_xlsx import system_actor

__all__ = ["system_actor"]
