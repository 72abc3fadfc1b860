"""``python -m sepzoo`` runs the CLI."""

from sepzoo.cli import entry_point

entry_point()
