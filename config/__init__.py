"""Settings read from the environment, with typed defaults, and logging setup."""

from config.settings import PROJECT_ROOT, Settings

__all__ = ["PROJECT_ROOT", "Settings"]
