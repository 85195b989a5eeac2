"""The whole run config, checked before any model runs: against what exists plus what the run will create.

A run that names a task, score, metadata key, tag or class that will not exist fails only at
its selection stage, after pretagging and embeddings (minutes on real data). `check_run_config`
finds it in well under a second: it reads only the small files that say what exists
(`.lightly/predictions/tasks.json` and the task schemas, `.lightly/metadata/schema.json`, the
catalog's tags), adds what this run's stages will write (the pretagging task, the assertions'
metadata keys and imputed task), and runs the selector on zero samples with those
names, so every mistake gets the very message the selection stage would give, with the run
file's name and the full key path (`run.yaml: selection_config.strategies[1].input.score: no
score of task 'lightly_pretagging' named 'objectness_least_confidense' (did you mean
"objectness_least_confidence"?)`), exit code 2.

A task's scores are those its boxes allow (`entropy` needs class probabilities, `mcbox`
per-box spread, …): which optional fields a task's files carry is read from its first file with
a box (`optional_fields`), the built-in detector's pretagging task has class probabilities.

Not checked here: the class names and box fields of a pretagging task made by an ONNX model
(they are in the model, which this check does not load) and anything that depends on the pixels.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from thresher.catalog import Catalog
from thresher.detections import Detections
from thresher.embeddings import Embeddings
from thresher.errors import ConfigError, did_you_mean
from thresher.frames import Frames
from thresher.io.datasource import Datasource
from thresher.io.lightly_metadata import read_metadata_schema
from thresher.io.lightly_predictions import OPTIONAL_FIELDS, optional_fields
from thresher.io.lightly_schema import read_schema, read_task_names, unlisted_task_hint
from thresher.io.problems import Problems
from thresher.run.config import PRETAGGING_TASK, RunConfig
from thresher.score_table import Scores
from thresher.scorers.seed_strategy import stacked_score_names
from thresher.select import Metadata, Predictions, resolve_inputs, run_selection

BUILTIN_DETECTOR = "ssd-mobilenet-v2-coco"
IMPUTED_SUFFIX = "-imputed"


def check_run_config(source: Datasource, config: RunConfig, catalog: Catalog, assertions=None, task_cache: Path | None = None) -> None:
    """ConfigError for the first name in `config` that neither exists nor will be made by the run.

    assertions: the run's `thresher.run.assertions.AssertionPlan` (None: no assertions stage).
    task_cache: the columnar cache of prediction tasks (a task's optional fields are read from
    it when it is current, instead of from the task's files).

    >>> check_run_config(Datasource("data/"), load_run_config("run.yaml"), Catalog("data/.thresher"))  # doctest: +SKIP
    """
    with config.naming_the_file():
        check_model_files(config)
        resolver = PlannedResolver(source, config, catalog, assertions, task_cache)
    with config.naming_the_file(selection=True):
        inputs = resolve_inputs(config.selection_config, resolver, Frames.empty(), [])
        run_selection(config.selection_config, inputs, seed=config.thresher.seed, sequence_length=config.worker_config.selected_sequence_length)


class PlannedResolver:
    """The selector's `InputResolver` over zero samples, knowing names only.

    tasks: the datasource's tasks plus the pretagging task (with pretagging on) and the
    assertions' `<task>-imputed`; metadata keys: `.lightly/metadata/schema.json` plus the keys
    the assertions write. Unknown names raise the ConfigError the run's resolver would raise.
    """

    def __init__(self, source: Datasource, config: RunConfig, catalog: Catalog, assertions=None, task_cache: Path | None = None) -> None:
        self.source, self.config, self.catalog, self.task_cache = source, config, catalog, task_cache
        worker, options = config.worker_config, config.thresher
        existing = read_task_names(source.lightly, Problems())
        self.classes = {task: _schema_classes(source, task) for task in existing}
        self.fields: dict[str, frozenset[str] | None] = {}  # task -> its boxes' optional fields (None: not known before the models run)
        self.imputed_from: dict[str, str] = {}  # `<task>-imputed` the assertions will write -> its task
        if worker.pretagging:
            self.classes[PRETAGGING_TASK] = _pretagging_classes(options.pretagging)
            self.fields[PRETAGGING_TASK] = _pretagging_fields(options.pretagging)
        self.object_task = None if worker.object_level is None else worker.object_level.task_name
        if self.object_task is not None:
            self._require_task(self.object_task, "worker_config.object_level.task_name")
        self.metadata_types = {f.path: f.value_type for f in read_metadata_schema(source.lightly, Problems())}
        self.assertions = assertions
        if assertions is not None:
            self._plan_assertions(assertions)

    def _plan_assertions(self, plan) -> None:
        """What the assertions stage writes: `<task>-imputed` and the metadata keys, seed 000's and the task's own."""
        from thresher.assertions.metadata import metadata_paths

        self._require_task(plan.task, "thresher.assertions.task")
        self.classes[f"{plan.task}{IMPUTED_SUFFIX}"] = self.classes[plan.task]
        self.imputed_from[f"{plan.task}{IMPUTED_SUFFIX}"] = plan.task
        keys = metadata_paths(plan.names) + metadata_paths(plan.names, plan.task)
        self.metadata_types.update(dict.fromkeys(keys, "NUMERIC_FLOAT"))

    def _require_task(self, task: str, where: str) -> None:
        if task not in self.classes:
            known = sorted(self.classes)
            raise ConfigError(f"{where}: no prediction task {task!r}{did_you_mean(task, known)}; tasks: {known}{_hints(self.source, task)}")

    def _task(self, task: str) -> list[str] | None:
        if task not in self.classes:
            known = sorted(self.classes)
            raise ConfigError(f"task {task!r}: no such prediction task{did_you_mean(task, known)}; tasks: {known}{_hints(self.source, task)}")
        return self.classes[task]

    def embeddings(self, task: str | None) -> Embeddings:
        if task:
            self._task(task)
            require_object_task(task, self.object_task)
        return Embeddings.empty(1)

    def query_embeddings(self, dataset_id: str | None, tag_name: str) -> Embeddings:
        self.catalog.tag(tag_name)  # an unknown tag fails here, with its suggestion
        return Embeddings.empty(1)

    def scores(self, task: str) -> Scores:
        self._task(task)
        if self.object_task is not None and task != self.object_task:
            raise ConfigError("at object level, SCORES and PREDICTIONS inputs must use the object_level task")
        fields = self.task_fields(task)
        standard = possible_score_names(object_level=self.object_task is not None, fields=fields)
        stacked = stacked_score_names(self.config.selection_config, standard).get(task, [])
        return Scores.empty([*standard, *(name for name in stacked if fields is None or _computable(name, standard, fields))])

    def task_fields(self, task: str) -> frozenset[str] | None:
        """The optional per-box fields the task's boxes will carry when the selection reads them
        (None: not known before the models run, as for an ONNX model's pretagging): the built-in
        detector's class probabilities, the assertions' imputed boxes' (their task's, without
        probabilities), else what the task's prediction files carry now."""
        if task not in self.fields:
            origin = self.imputed_from.get(task)
            if origin is None:
                self.fields[task] = optional_fields(self.source.lightly, task, cache=self.task_cache)
            else:
                fields = self.task_fields(origin)
                self.fields[task] = None if fields is None else fields - {"probabilities"}
        return self.fields[task]

    def metadata(self, key: str) -> Metadata:
        if key.startswith("lightly."):
            raise ConfigError(f"METADATA key {key!r}: thresher does not compute LightlyOne's built-in lightly.* metadata yet")
        if key not in self.metadata_types:
            known = sorted(self.metadata_types)
            hint = "" if self.assertions is not None else "; model assertions (flickering, <name>_severity) are computed when thresher.assertions is configured"
            raise ConfigError(f"METADATA key {key!r}: no metadata key {key!r}{did_you_mean(key, known)}; have {known}{hint}")
        numeric = self.metadata_types[key] != "CATEGORICAL_STRING"
        return Metadata(np.zeros(0, str), np.zeros(0, np.float64) if numeric else np.zeros(0, str))

    def predictions(self, task: str) -> Predictions:
        names = self._task(task)
        if self.object_task is not None and task != self.object_task:
            raise ConfigError("at object level, SCORES and PREDICTIONS inputs must use the object_level task")
        if names is None:  # an ONNX model's classes: not known without loading it
            names = sorted({c for e in self.config.selection_config.strategies if e.input.type == "PREDICTIONS" for c in (e.input.categories or [])})
        return Predictions.from_detections(Frames.empty(), Detections.empty(), names)


def possible_score_names(object_level: bool, fields: frozenset[str] | None = None) -> list[str]:
    """The scores the run's resolver computes for a task (frame level, or per object) whose boxes
    carry the optional `fields` (`OPTIONAL_FIELDS`; None: any of them, every score a task's files
    may allow): the scorers' own column names on a one-box frame with those fields. Some scores,
    such as the seed's `entropy` or `mcbox`, exist only where the boxes carry class probabilities
    or per-box uncertainty.

    >>> "mcbox" in possible_score_names(False), "mcbox" in possible_score_names(False, frozenset({"probabilities"}))
    (True, False)
    """
    from thresher.run.resolver import SCORE_FAMILIES
    from thresher.scorers import object_scores, score_frames

    have = frozenset(OPTIONAL_FIELDS) if fields is None else fields
    box = Detections(
        frame=np.array([0]),
        xyxy=np.array([[0.0, 0.0, 1.0, 1.0]]),
        score=np.array([0.5]),
        class_id=np.array([0]),
        probs=np.array([[0.5, 0.5]]) if "probabilities" in have else None,
        box_std=np.ones((1, 4)) if "box_std" in have else None,
        box_spread=np.ones((1, 4)) if "box_spread" in have else None,
        class_spread=np.ones(1) if "class_spread" in have else None,
    )
    if object_level:
        return object_scores(box, np.array(["object"])).names
    frame = Frames.build(id=np.array(["a.png"]), kind=np.array(["image"]), video=np.array(["a.png"]), frame_index=np.array([0]), width=np.array([2]), height=np.array([2]))
    return score_frames(box, frame, SCORE_FAMILIES).names


SCORE_FIELDS = {"entropy": "probabilities", "albox": "box_std", "mcbox": "box_spread", "mcclass": "class_spread"}  # seed score -> the per-box field it needs


def _computable(name: str, standard: list[str], fields: frozenset[str]) -> bool:
    """Whether the seed-002 stacked score `name` can be computed from boxes with `fields`
    (`sota` needs box_spread, box_std and class_spread; `random` or a task's own column nothing)."""
    from thresher.scorers.seed_strategy import parse_seed_strategy
    from thresher.scorers.uncertainty import COMBINATIONS

    score = parse_seed_strategy(name, standard).score
    parts = COMBINATIONS[score][0] if score in COMBINATIONS else (score,)
    return all(SCORE_FIELDS[part] in fields for part in parts if part in SCORE_FIELDS)


def check_model_files(config: RunConfig) -> None:
    """ConfigError when `thresher.embedder` or `thresher.pretagging.model` names a model file
    that does not exist, or an embedder name thresher does not know (before any model loads).

    >>> from thresher.run.config import load_run_config
    >>> one = {"n_samples": 1, "strategies": [{"input": {"type": "RANDOM"}, "strategy": {"type": "WEIGHTS"}}]}
    >>> check_model_files(load_run_config({"thresher": {"embedder": "nothere.onnx"}, "selection_config": one}))
    Traceback (most recent call last):
    thresher.errors.ConfigError: thresher.embedder: expected an existing model file, got 'nothere.onnx' (no such file)
    """
    from thresher.models.embedder import embedder_file, embedder_names

    spec = config.thresher.embedder
    path = embedder_file(spec)
    if path is None and spec not in embedder_names():
        raise ConfigError(f"thresher.embedder: expected a model file (.onnx, simclr:PATH) or one of {embedder_names()}, got {spec!r}{did_you_mean(spec, embedder_names())}")
    if path is not None and not Path(path).is_file():
        raise ConfigError(f"thresher.embedder: expected an existing model file, got {path!r} (no such file)")
    model = config.thresher.pretagging.model
    if config.worker_config.pretagging and model != BUILTIN_DETECTOR and not Path(model).is_file():
        raise ConfigError(f"thresher.pretagging.model: expected {BUILTIN_DETECTOR!r} or an existing .onnx file, got {model!r} (no such file)")


def _schema_classes(source: Datasource, task: str) -> list[str] | None:
    schema = read_schema(source.lightly, task, Problems())
    return None if schema is None else [c.name for c in schema.categories]


def _pretagging_classes(options) -> list[str] | None:
    """The classes the pretagging task will have: the built-in detector's (filtered), else unknown."""
    if options.model != BUILTIN_DETECTOR:
        return None
    from thresher.models.coco import COCO_TF_OD_NAMES
    from thresher.models.detector import resolve_classes

    return list(resolve_classes(COCO_TF_OD_NAMES, options.classes).values())


def _pretagging_fields(options) -> frozenset[str] | None:
    """The optional per-box fields of the pretagging task: the built-in detector gives class
    probabilities; another model's output is not known before it runs (None)."""
    return frozenset({"probabilities"}) if options.model == BUILTIN_DETECTOR else None


def _hints(source: Datasource, task: str) -> str:
    """What to do about a task the datasource lacks: pretagging creates it, or a predict did not finish."""
    return _pretagging_hint(task) + unlisted_task_hint(source.lightly, task)


def _pretagging_hint(task: str) -> str:
    return f" (worker_config.pretagging: true creates {PRETAGGING_TASK!r})" if task == PRETAGGING_TASK else ""


def require_object_task(task: str, object_task: str | None) -> None:
    """At object level the samples are the crops of the object task: an EMBEDDINGS input naming
    another task cannot be given (ConfigError naming both)."""
    if object_task is not None and task != object_task:
        raise ConfigError(f"EMBEDDINGS task {task!r}: at object level the samples are the crops of the object_level task {object_task!r}; name that task or none")
