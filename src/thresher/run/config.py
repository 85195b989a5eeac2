"""The configuration of a run: LightlyOne's `worker_config`, `selection_config` and
`lightly_config` in the seeds' dict shapes, plus thresher's own section.

A run file (YAML or JSON) holds these four top-level keys; each may be omitted but
`selection_config`. Unknown keys anywhere are errors naming the dotted path and the nearest
valid key. worker_config keys that have no meaning on one machine (`shutdown_when_job_finished`,
`pretagging_debug`, `datasource.bypass_verify`) are accepted and ignored.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from thresher.config_keys import check_known_keys, validate_config
from thresher.config_text import parse_config
from thresher.errors import ConfigError
from thresher.select import SelectionConfig, load_selection_config

PRETAGGING_TASK = "lightly_pretagging"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ObjectLevel(_Strict):
    task_name: str
    crop_dataset_name: str | None = None  # default: "<dataset>-crops"
    padding: float = Field(default=0.0, ge=0)  # 0.1 adds 10 % to the box's width and height


class DatasourceOptions(_Strict):
    process_all: bool = False  # datapool: process every file again, not only new ones
    bypass_verify: bool = False
    enable_datapool_update: bool = True


class WorkerConfig(_Strict):
    enable_corruptness_check: bool = True
    remove_exact_duplicates: bool = True
    enable_training: bool = False
    pretagging: bool = False
    pretagging_debug: bool = False
    object_level: ObjectLevel | None = None
    selected_sequence_length: int | None = Field(default=None, ge=1)
    use_datapool: bool = False
    datasource: DatasourceOptions = DatasourceOptions()
    relevant_filenames_file: str | None = None
    shutdown_when_job_finished: bool = False


class PretaggingOptions(_Strict):
    model: str = "ssd-mobilenet-v2-coco"
    confidence: float = Field(default=0.1, ge=0, le=1)
    classes: list[str] | None = None


class AssertionOptions(_Strict):
    task: str | None = None  # default: the pretagging task, else object_level.task_name
    names: list[str] = ["flicker"]
    seed_compatible: bool = False
    parameters: dict[str, dict[str, Any]] = {}


class ExportOptions(_Strict):
    """What a run hands to labeling (docs/run.md, "Outputs" and "Label Studio")."""

    renamed_keys: ClassVar[dict[str, str]] = {"frames": "images"}  # the names of earlier run files

    task: str | None = None  # the prediction task whose boxes the exports carry (default: the one the run read)
    images: bool = True  # images/: the selected video frames as PNG, the selected stills linked or copied
    stills: Literal["link", "copy"] = "link"  # how a selected still enters images/ (a bucket's are always copied)
    crops: bool = True  # write the selected crops as PNG at object level
    label_studio: bool = True
    coco: bool = True
    filenames: bool = True
    image_root: str | None = None  # URL under which images/ is served (http): Label Studio loads image_root/<name>
    local_files_root: str | None = None  # Label Studio's LOCAL_FILES_DOCUMENT_ROOT (default: the runs folder's parent)


class DiversityOptions(_Strict):
    """DIVERSITY's approximation for very many embeddings (docs/selection.md, "Ten million
    embeddings"): PCA to `pca_dims` fitted on `pca_sample` vectors, applied block by block to
    the stored embeddings, and the matrix k-center reads stored as `storage`."""

    storage: Literal["float32", "float16", "int8"] = "float32"
    pca_dims: int | None = Field(default=None, ge=1)
    pca_sample: int = Field(default=100_000, ge=2)

    def approximation(self, seed: int):
        """The `thresher.select.Approximation` these options describe."""
        from thresher.select import Approximation

        return Approximation(storage=self.storage, pca_dims=self.pca_dims, pca_sample=self.pca_sample, seed=seed)


class ThresherOptions(_Strict):
    embedder: str = "ssd-mobilenet-v2-coco"
    embedding_dtype: Literal["float32", "float16"] = "float32"  # how new embeddings are stored (float16: half the disk)
    diversity: DiversityOptions | None = None  # None: exact k-center on float32 unit vectors
    every: int = Field(default=1, ge=1)  # process every N-th frame of each video
    seed: int = 0
    pretagging: PretaggingOptions = PretaggingOptions()
    assertions: AssertionOptions | None = None
    exports: ExportOptions = ExportOptions()


class RunConfig(_Strict):
    worker_config: WorkerConfig = WorkerConfig()
    selection_config: SelectionConfig
    lightly_config: dict[str, Any] | None = None
    thresher: ThresherOptions = ThresherOptions()
    _origin: str = PrivateAttr("")  # the run file it was read from ("" for a dict)
    _selection_path: str = PrivateAttr("")  # "selection_config." when the selection config is a section of that file or dict

    @property
    def selection_prefix(self) -> str:
        """What the selection config's key paths start with in the run file: `selection_config.`, or
        "" when it was given on its own (the seeds' separate dicts, `thresher select`)."""
        return self._selection_path

    @contextmanager
    def naming_the_file(self, selection: bool = False) -> Iterator[None]:
        """ConfigErrors raised inside (the config check's, the selection's) name the run file and,
        with `selection` (an error whose key path starts inside the selection config, such as
        `strategies[0].input.score`), the full key path: `run.yaml: selection_config.strategies[0]…`.

        >>> config = load_run_config({"selection_config": {"n_samples": 1, "strategies": [{"input": {"type": "RANDOM"}, "strategy": {"type": "WEIGHTS"}}]}})
        >>> with config.naming_the_file(selection=True):
        ...     raise ConfigError("strategies[0].input.score: no score")
        Traceback (most recent call last):
        thresher.errors.ConfigError: selection_config.strategies[0].input.score: no score
        """
        try:
            yield
        except ConfigError as exc:
            where = f"{self._origin}: " if self._origin else ""
            text = str(exc)
            if where and text.startswith(where):
                raise
            raise type(exc)(f"{where}{self._selection_path if selection else ''}{text}") from exc


def load_run_config(
    source: Mapping[str, Any] | str | os.PathLike | None = None,
    *,
    worker_config: Mapping[str, Any] | None = None,
    selection_config: SelectionConfig | Mapping[str, Any] | str | os.PathLike | None = None,
    lightly_config: Mapping[str, Any] | None = None,
    thresher: Mapping[str, Any] | None = None,
) -> RunConfig:
    """A RunConfig from a run file or dict, and/or the seeds' separate dicts (which win)."""
    raw: dict[str, Any] = dict(_read(source) if source is not None else {})
    where = f"{os.fspath(source)}: " if isinstance(source, (str, os.PathLike)) else ""
    check_known_keys({k: v for k, v in raw.items() if k != "selection_config" and k != "lightly_config"}, RunConfig, "", where)
    for key, value in (("worker_config", worker_config), ("selection_config", selection_config), ("lightly_config", lightly_config), ("thresher", thresher)):
        if value is not None:
            raw[key] = value
    if "selection_config" not in raw:
        raise ConfigError(f"{where}selection_config: missing; a run needs a selection_config (n_samples and strategies)")
    section = "selection_config." if selection_config is None else ""  # a separate selection config has its own paths
    config = RunConfig(
        worker_config=validate_config(WorkerConfig, raw.get("worker_config"), f"{where}worker_config."),
        selection_config=load_selection_config(raw["selection_config"], where=where if section else "", section=section),
        lightly_config=raw.get("lightly_config") or None,
        thresher=validate_config(ThresherOptions, raw.get("thresher"), f"{where}thresher."),
    )
    config._origin, config._selection_path = where.removesuffix(": "), section
    return config


def _read(source: Mapping[str, Any] | str | os.PathLike) -> Mapping[str, Any]:
    if isinstance(source, Mapping):
        return source
    path = Path(source)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the run config: {exc.strerror or exc}") from exc
    data = parse_config(path, text)
    if not isinstance(data, Mapping):
        raise ConfigError(f"{path}: expected a mapping with worker_config, selection_config, …; got {type(data).__name__}")
    return data
