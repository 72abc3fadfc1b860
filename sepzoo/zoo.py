"""The zoo: named entries -> model class, constructor config and published weights; preset folders; publishing.

This module owns presets. It resolves what users pass to :func:`load` (``"name"``, ``"name/version"``, a
preset folder, an archive, a ``file://`` or ``http(s)://`` handle), saves and loads preset folders, and turns
a finished training run into a new zoo version (:func:`publish`).

Where entries come from:

* **Architectures** are registered where the model lives: ``@register_model(presets=PRESETS)`` on the class
  in ``sepzoo/models/<model>.py`` (see :func:`sepzoo.models.base.register_model`). Such an entry builds a
  randomly initialised model.
* **Published weights** are recorded by :func:`publish` in ``<hub>/<name>/index.json`` beside the archives:
  ``{"name", "class_name", "description", "config", "default", "versions": {version: {"handle", "sha256"}}}``.
  The index files of the shipped weights folder (``sepzoo/weights/``) and of a local ``SEPZOO_HUB_URL`` folder
  are read. A published name with no registered architecture is an entry of its own.

A preset folder holds ``config.json`` (``{"class_name", "config"}``), ``model.weights.h5``, ``metadata.json``
(what the model card says: numbers from :meth:`describe`, training data named relative to its corpus, recipe,
metrics with the commands that produced them, sha256 of the weights) and ``MODEL_CARD.md``.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import shutil
import tempfile
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from sepzoo import hub
from sepzoo.errors import ConfigError, ModelNotFoundError, OutputError, first_line
from sepzoo.model_card import render_model_card

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.weights.h5"
METADATA_FILE = "metadata.json"
CARD_FILE = "MODEL_CARD.md"
INDEX_FILE = "index.json"
_VERSION_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


@dataclass(frozen=True)
class WeightsVersion:
    """One published version of a zoo entry's weights.

    Attributes:
        handle: archive path relative to the hub base URL (``"<name>/<version>.tar.gz"``) or absolute URL.
        sha256: hex sha256 of that archive.
    """

    handle: str
    sha256: str | None = None


@dataclass(frozen=True)
class PresetSpec:
    """One zoo entry.

    Attributes:
        name: the name users load, e.g. ``"lightweight_aspp"``.
        class_name: registered model class, e.g. ``"LightweightASPP"``.
        description: one line for listings.
        config: constructor kwargs of the randomly initialised model.
        versions: published weights by version name (empty when none are published).
        default_version: the version ``load(name)`` takes (None when none are published).
    """

    name: str
    class_name: str
    description: str
    config: dict[str, Any] = field(default_factory=dict)
    versions: dict[str, WeightsVersion] = field(default_factory=dict)
    default_version: str | None = None

    @property
    def handle(self) -> str | None:
        """Handle of the default version's archive (None when nothing is published)."""
        return self.versions[self.default_version].handle if self.default_version else None

    @property
    def sha256(self) -> str | None:
        """sha256 of the default version's archive."""
        return self.versions[self.default_version].sha256 if self.default_version else None


# ---------------------------------------------------------------------------------------------------------
# The registry


def _model_registry():
    # Importing sepzoo.models imports every model module, which registers its class and presets.
    import sepzoo.models as models

    return models


def shipped_weights_dir() -> Path:
    """The package's folder of shipped archives and their ``index.json`` files (``sepzoo/weights``)."""
    return Path(__file__).parent / "weights"


def _index_dirs() -> list[Path]:
    folders = [shipped_weights_dir()]
    configured = hub.base_url()
    if configured.startswith("file://"):
        local = Path(urllib.request.url2pathname(urllib.parse.urlsplit(configured).path))
        if local.resolve() != folders[0].resolve():
            folders.append(local)
    return folders


def read_index(entry_dir: str | os.PathLike) -> dict[str, Any] | None:
    """The ``index.json`` of one published entry folder, or None when it has none.

    Raises:
        ModelNotFoundError: the file is not JSON or lacks the fields an index holds.
    """
    path = Path(entry_dir) / INDEX_FILE
    return _checked_index(path) if path.is_file() else None


_INDEX_FIELDS = ("name", "class_name", "description", "config", "versions")


def _checked_index(path: Path) -> dict[str, Any]:
    """``path`` parsed as an entry's ``index.json``, or a one-line error naming the file and the fix."""
    try:
        index = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise ModelNotFoundError(f"{path}: not a readable zoo index ({first_line(error)}); re-publish the entry "
                                 "or remove its folder from the hub") from None
    missing = [key for key in _INDEX_FIELDS if not isinstance(index, dict) or key not in index]
    if missing or not isinstance(index["versions"], dict):
        what = f"missing {', '.join(missing)}" if missing else "versions is not a mapping"
        raise ModelNotFoundError(f"{path}: not a zoo index ({what}); re-publish the entry or remove its folder "
                                 "from the hub")
    return index


_RUNTIME_PRESETS: dict[str, PresetSpec] = {}


def register_preset(spec: PresetSpec) -> None:
    """Add (or replace) a zoo entry for this process, e.g. weights served from your own hub."""
    _RUNTIME_PRESETS[spec.name] = spec


def unregister_preset(name: str) -> None:
    """Forget an entry added with :func:`register_preset`."""
    _RUNTIME_PRESETS.pop(name, None)


def presets() -> dict[str, PresetSpec]:
    """All zoo entries by name: registered architectures merged with published weights."""
    entries = {
        name: PresetSpec(name=name, class_name=entry["class_name"], description=entry["description"],
                         config=entry["config"])
        for name, entry in _model_registry().registered_presets().items()
    }
    for folder in _index_dirs():
        for index_path in sorted(folder.glob(f"*/{INDEX_FILE}")):
            index = _checked_index(index_path)
            name = index["name"]
            base = entries.get(name) or PresetSpec(name=name, class_name=index["class_name"],
                                                   description=index["description"], config=index["config"])
            try:
                published = {version: WeightsVersion(**info) for version, info in index["versions"].items()}
            except TypeError as error:
                raise ModelNotFoundError(f"{index_path}: not a zoo index (a version entry: {first_line(error)}); "
                                         "re-publish the entry or remove its folder from the hub") from None
            versions = {**base.versions, **published}
            entries[name] = PresetSpec(name=name, class_name=base.class_name, description=base.description,
                                       config=base.config, versions=versions,
                                       default_version=index.get("default") or base.default_version)
    return {**entries, **_RUNTIME_PRESETS}


def model_classes() -> dict[str, type]:
    """Registered zoo model classes by class name."""
    return _model_registry().model_classes()


def build_model(class_name: str, config: dict[str, Any]):
    """Instantiate a registered model class from its constructor config."""
    classes = model_classes()
    if class_name not in classes:
        raise ModelNotFoundError(f"unknown model class {class_name!r}; known classes: {', '.join(sorted(classes))}")
    return classes[class_name].from_config(dict(config))


def _unknown_name_error(name: str) -> ModelNotFoundError:
    known = sorted(presets())
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
    hint = f"did you mean {' or '.join(close)}?" if close else f"known models: {', '.join(known)}"
    return ModelNotFoundError(f"unknown model {name!r}: {hint} (`sepzoo list` shows all)")


def resolve(name: str) -> tuple[PresetSpec, str | None]:
    """``"name"`` or ``"name/version"`` -> the entry and the version meant (its default when none is named).

    Raises:
        ModelNotFoundError: unknown name (with close names), or a version the entry does not have (listing
            the ones it has).
    """
    base, _, version = name.partition("/")
    entries = presets()
    if base not in entries:
        raise _unknown_name_error(base)
    spec = entries[base]
    if not version:
        return spec, spec.default_version
    if version not in spec.versions:
        known = ", ".join(sorted(spec.versions)) or "none published yet"
        raise ModelNotFoundError(f"{base}: no version {version!r}; known versions: {known}")
    return spec, version


def get_preset(name: str) -> PresetSpec:
    """The zoo entry ``name`` (``name/version`` accepted and checked); raises with close-name suggestions."""
    return resolve(name)[0]


def _is_registered(name: str) -> bool:
    return name.split("/", 1)[0] in presets()


def _looks_like_handle(name: str) -> bool:
    return "://" in name or os.path.exists(name) or name.endswith(hub.ARCHIVE_SUFFIXES)


def fetch_weights(name: str) -> Path:
    """The local preset folder of ``name``'s weights (``name``, ``name/version`` or a preset handle).

    Raises :class:`ModelNotFoundError` for an entry without published weights and for unknown names/versions.
    """
    if not _is_registered(name) and _looks_like_handle(name):
        return hub.fetch(name)
    spec, version = resolve(name)
    if version is None:
        raise ModelNotFoundError(
            f"{spec.name}: no pretrained weights are published yet; "
            "use weights=None (CLI: --weights none) for a randomly initialised model"
        )
    published = spec.versions[version]
    return hub.fetch(published.handle, published.sha256)


def has_weights(name: str) -> bool:
    """Whether the zoo entry ``name`` has published weights."""
    return get_preset(name).default_version is not None


def load(name: str, weights: str | None = "pretrained"):
    """Build a zoo model.

    Args:
        name: a zoo name (``sepzoo list``), ``name/version``, or a preset folder / archive / ``file://`` /
            ``http(s)://`` handle.
        weights: ``"pretrained"`` (the entry's published weights, fetched through :mod:`sepzoo.hub` and
            sha256-checked), ``None`` (random initialisation), or a preset handle whose weights replace the
            entry's.

    Returns:
        A :class:`~sepzoo.models.base.SeparationModel`.

    Example::

        model = sepzoo.load("lightweight_aspp")              # default version
        model = sepzoo.load("lightweight_aspp/midi4-v3")     # a named version
        model = sepzoo.load("lightweight_aspp", weights=None)
    """
    if weights is None and (_is_registered(name) or not _looks_like_handle(name)):
        spec = get_preset(name)
        return build_model(spec.class_name, spec.config)
    if weights not in (None, "pretrained") and _is_registered(name):
        get_preset(name)
        return load_preset(fetch_weights(str(weights)))
    return load_preset(fetch_weights(name))


def list_models() -> list[dict[str, Any]]:
    """One row per zoo entry: name, description, sources, rate (Hz), params, receptive field, latency, weights."""
    rows = []
    for name, spec in sorted(presets().items()):
        info = build_model(spec.class_name, spec.config).describe()
        rows.append({"name": name, "description": spec.description, "weights": spec.default_version is not None,
                     "versions": sorted(spec.versions), **info})
    return rows


# ---------------------------------------------------------------------------------------------------------
# Preset folders


def save_preset(model, directory: str | os.PathLike, metadata: dict[str, Any] | None = None) -> Path:
    """Write ``model`` as a preset folder at ``directory`` (replaced atomically if it exists).

    ``metadata`` is merged over the model's own :meth:`describe` numbers; ``weights_sha256`` is added and the
    model card is rendered from the result. Returns the preset folder.
    """
    directory = Path(directory)
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = hub.make_temp_dir(directory.parent, f".{directory.name}.", "")  # umask mode, unlike mkdtemp's 0700
    try:
        config = {"class_name": type(model).__name__, "config": model.get_config()}
        (staging / CONFIG_FILE).write_text(json.dumps(config, indent=2) + "\n")
        _model_only(model).save_weights(staging / WEIGHTS_FILE)
        full_metadata = {**model.describe(), **(metadata or {}),
                         "weights_sha256": hub.sha256_file(staging / WEIGHTS_FILE)}
        (staging / METADATA_FILE).write_text(json.dumps(full_metadata, indent=2) + "\n")
        (staging / CARD_FILE).write_text(render_model_card(full_metadata, full_metadata.get("name", directory.name)))
        _replace_dir(staging, directory)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return directory


def _replace_dir(staging: Path, directory: Path) -> None:
    if directory.exists():
        backup = directory.with_name(f".{directory.name}.old")
        shutil.rmtree(backup, ignore_errors=True)
        directory.rename(backup)
        staging.rename(directory)
        shutil.rmtree(backup, ignore_errors=True)
    else:
        staging.rename(directory)


def _model_only(model):
    """A copy of ``model`` without optimizer state, so a preset holds the model's weights and nothing else."""
    if getattr(model, "optimizer", None) is None:
        return model
    copy = build_model(type(model).__name__, model.get_config())
    copy.set_weights(model.get_weights())
    return copy


def read_metadata(directory: str | os.PathLike) -> dict[str, Any]:
    """The preset's ``metadata.json`` as a dict (empty if the preset has none)."""
    path = Path(directory) / METADATA_FILE
    return json.loads(path.read_text()) if path.exists() else {}


def load_preset(directory: str | os.PathLike, *, load_weights: bool = True):
    """Build the model a preset folder describes and load its weights.

    Raises :class:`ModelNotFoundError` when the folder is not a complete preset.
    """
    directory = Path(directory)
    needed = [CONFIG_FILE] + ([WEIGHTS_FILE] if load_weights else [])
    missing = [name for name in needed if not (directory / name).is_file()]
    if missing:
        raise ModelNotFoundError(
            f"{directory}: not a sepzoo preset (missing {', '.join(missing)}); "
            "a preset folder holds config.json, model.weights.h5 and metadata.json"
        )
    try:
        config = json.loads((directory / CONFIG_FILE).read_text())
        class_name, kwargs = config["class_name"], config["config"]
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as error:
        raise ModelNotFoundError(f"{directory / CONFIG_FILE}: not a preset config ({first_line(error)}); "
                                 "re-publish or re-download the preset") from None
    model = build_model(class_name, kwargs)
    if load_weights:
        try:
            model.load_weights(directory / WEIGHTS_FILE)
        except Exception as error:  # h5py / Keras raise OSError, ValueError, KeyError... for a damaged file
            raise ModelNotFoundError(
                f"{directory / WEIGHTS_FILE}: the weights do not load into {class_name} ({first_line(error)}); "
                "the file is damaged or belongs to another model, re-download or re-publish the preset"
            ) from None
    return model



# ---------------------------------------------------------------------------------------------------------
# Publishing


def find_absolute_paths(value: Any, where: str = "") -> list[str]:
    """``"key.path: text"`` for every string in ``value`` (nested dicts/lists) holding an absolute path."""
    found = []
    if isinstance(value, dict):
        for key, item in value.items():
            found += find_absolute_paths(item, f"{where}.{key}" if where else str(key))
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            found += find_absolute_paths(item, f"{where}[{i}]")
    elif isinstance(value, str) and _ABSOLUTE_PATH.search(value):
        found.append(f"{where}: {_ABSOLUTE_PATH.search(value).group(0)}")
    return found


# A POSIX path of two or more components not inside a relative path or URL, a Windows drive path, or ~/...
_ABSOLUTE_PATH = re.compile(r"(?<![\w.:/~-])/[\w.@+-]+(?:/[\w.@+-]*)+|\b[A-Za-z]:\\[^\s,;'\"|)]+|~/[^\s,;'\"|)]+")
_HOST_KEYS = ("platform", "hostname", "host", "node")


def portable(value: Any) -> Any:
    """``value`` with every absolute path replaced by the name of the folder or file it ends in.

    Training data is named by its tree (``timgm_freedoom``, the corpus rendered with a sample set), not by
    where it lay on the build machine.
    """
    if isinstance(value, dict):
        return {key: portable(item) for key, item in value.items() if key not in _HOST_KEYS}
    if isinstance(value, list):
        return [portable(item) for item in value]
    if isinstance(value, str):
        return _ABSOLUTE_PATH.sub(lambda match: PurePosixPath(match.group(0).rstrip("/")).name, value)
    return value


def publish(run_dir: str | os.PathLike, name: str, version: str, *, hub_dir: str | os.PathLike | None = None,
            description: str | None = None, note: str | None = None, evaluation: dict[str, Any] | None = None,
            licences: str | None = None, make_default: bool = True) -> dict[str, Any]:
    """Turn a finished run (or a preset folder) into version ``version`` of zoo entry ``name``.

    Writes ``<hub_dir>/<name>/<version>.tar.gz`` (a deterministic archive of the preset with portable
    ``metadata.json`` and ``MODEL_CARD.md``), copies the card to ``<hub_dir>/<name>/MODEL_CARD.md`` and records
    the version, its handle and the archive's sha256 in ``<hub_dir>/<name>/index.json``. The weights file is
    copied byte for byte.

    Args:
        run_dir: a run folder of ``sepzoo train`` (its ``preset/`` is published) or a preset folder.
        name: zoo entry name; a registered architecture keeps its own description and config.
        version: version name, e.g. ``"midi4-v3"`` (letters, digits, ``.``, ``_``, ``-``).
        hub_dir: folder of published entries (default: the package's ``sepzoo/weights``).
        description: one line for listings (default: the run's).
        note: how the run went, for the card (replaces the run's note).
        evaluation: an ``evaluation`` section for the metadata (``summary``, ``table``, ``command``, ...);
            default: the run's own, if any.
        licences: where the training data comes from and under which licences (default: the run's).
        make_default: make this version the one ``load(name)`` takes.

    Returns:
        The index entry written (``name``, ``default``, ``versions``, ...).

    Raises:
        ConfigError: not a run or preset folder, a bad version name, or metadata that still holds a
            machine path after cleaning.
        OutputError: the hub folder cannot be written; folders this call created are removed again.
    """
    run_dir = Path(run_dir)
    preset = run_dir / "preset" if (run_dir / "preset" / CONFIG_FILE).is_file() else run_dir
    if not (preset / CONFIG_FILE).is_file() or not (preset / WEIGHTS_FILE).is_file():
        raise ConfigError(f"{run_dir}: neither a finished run (with preset/) nor a preset folder; "
                          "publish the folder `sepzoo train` wrote")
    if not _VERSION_NAME.match(version):
        raise ConfigError(f"--version {version!r}: use letters, digits, '.', '_' and '-', e.g. midi4-v3")
    if not _VERSION_NAME.match(name):
        raise ConfigError(f"--name {name!r}: use letters, digits, '.', '_' and '-', e.g. lightweight_aspp")
    hub_dir = Path(hub_dir) if hub_dir is not None else shipped_weights_dir()
    entry_dir = hub_dir / name
    handle = f"{name}/{version}.tar.gz"
    config = json.loads((preset / CONFIG_FILE).read_text())
    registered = _model_registry().registered_presets().get(name)
    if registered and registered["class_name"] != config["class_name"]:
        raise ConfigError(f"{run_dir}: holds a {config['class_name']} but {name} is a {registered['class_name']}; "
                          "publish it under another --name")

    metadata = portable(read_metadata(preset))
    training = dict(metadata.get("training", {}))
    if note is not None:
        training["note"] = note
    metadata.update(name=name, version=version, handle=handle, training=training,
                    description=description or metadata.get("description") or (registered or {}).get("description", ""))
    if evaluation is not None:
        metadata["evaluation"] = portable(evaluation)
    if licences is not None:
        metadata["data_licences"] = licences
    problems = find_absolute_paths(metadata)
    if problems:
        raise ConfigError(f"{preset}: metadata still names machine paths ({'; '.join(problems[:3])}); "
                          "name data relative to its corpus")

    created = [folder for folder in (entry_dir, *entry_dir.parents) if not folder.exists()][::-1]
    try:
        entry_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=entry_dir, prefix=".publish-") as staging_root:
            staging = Path(staging_root) / "preset"
            staging.mkdir()
            shutil.copyfile(preset / CONFIG_FILE, staging / CONFIG_FILE)
            shutil.copyfile(preset / WEIGHTS_FILE, staging / WEIGHTS_FILE)
            metadata["weights_sha256"] = hub.sha256_file(staging / WEIGHTS_FILE)
            (staging / METADATA_FILE).write_text(json.dumps(metadata, indent=2, ensure_ascii=False) + "\n")
            card = render_model_card(metadata, name)
            (staging / CARD_FILE).write_text(card)
            archive = Path(staging_root) / f"{version}.tar.gz"
            digest = hub.archive_preset(staging, archive)
            index = read_index(entry_dir) or {"name": name, "class_name": config["class_name"], "versions": {}}
            index.update(class_name=config["class_name"], description=metadata["description"],
                         config=registered["config"] if registered else _constructor_config(config["config"]))
            index["versions"] = {**index["versions"], version: {"handle": handle, "sha256": digest}}
            if make_default or not index.get("default"):
                index["default"] = version
            # The archive goes first: an index entry never names an archive that is not there.
            os.replace(archive, entry_dir / f"{version}.tar.gz")
            _write_atomically(entry_dir / CARD_FILE, card)
            _write_atomically(entry_dir / INDEX_FILE, json.dumps(index, indent=2) + "\n")
    except OSError as error:
        for folder in reversed(created):
            try:
                folder.rmdir()
            except OSError:
                break
        raise OutputError(f"{error.filename or entry_dir}: cannot publish there ({error.strerror or error}); "
                          "pass a writable --hub-dir") from None
    return index


def _constructor_config(config: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in config.items() if key not in ("name", "trainable", "dtype")}


def _write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to a temporary file beside ``path`` (mode from the umask) and rename it onto ``path``."""
    handle, temporary = hub.make_temp_file(path.parent, f".{path.name}.", ".part")
    try:
        with os.fdopen(handle, "w") as stream:
            stream.write(text)
        os.replace(temporary, path)
    finally:
        Path(temporary).unlink(missing_ok=True)
