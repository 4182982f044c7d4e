"""Excel imports (SPEC §6): column specs, the streaming pipeline, kind handlers, jobs."""
