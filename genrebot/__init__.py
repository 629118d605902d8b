"""The entry point above the core and both front ends: ``genrebot`` (installed by ``pip``) and
``python -m bot`` both run :func:`genrebot.cli.main`."""
