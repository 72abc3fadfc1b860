"""The one exception family of sepzoo.

Every error a user can cause (bad file, unknown model, broken download, bad config) is a
:class:`SepzooError` whose message is a single line that names the thing at fault, says what is wrong
and what to do. The CLI prints that line and exits with status 2; it never shows a traceback for them.
"""


class SepzooError(Exception):
    """Base class: a user-facing, one-line error."""


class AudioFileError(SepzooError):
    """An input audio file is missing, unreadable, empty, or holds unusable samples."""


class OutputError(SepzooError):
    """An output location cannot be written."""


class ModelNotFoundError(SepzooError):
    """A model name or preset handle does not resolve to anything."""


class HubError(SepzooError):
    """Fetching, verifying or unpacking a preset archive failed."""


class ChecksumError(HubError):
    """A downloaded file does not match its expected sha256."""


class OfflineError(HubError):
    """``SEPZOO_OFFLINE=1`` is set and the requested file is not in the cache."""


class ConfigError(SepzooError):
    """A configuration file or value is invalid."""


class DataError(SepzooError):
    """A dataset folder or data source is unusable."""


class PresetNotFoundError(HubError, ModelNotFoundError):
    """A preset handle points at nothing (HTTP 404 or a missing file)."""


def first_line(error: BaseException) -> str:
    """The first non-empty line of an exception's message, or its type name when it has none: how a
    third-party failure goes into a one-line sepzoo error."""
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__
