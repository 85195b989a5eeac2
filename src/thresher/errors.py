"""The one error hierarchy of thresher.

Every error subclasses `ThresherError` and the builtin a caller would catch anyway
(`SchemaError` is a `ValueError`), so `except ValueError` keeps working. The CLI catches
`ThresherError`, prints one line `error: ...` and exits 2 for usage and configuration
errors (`UsageError`, `ConfigError`), 1 otherwise.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class ThresherError(Exception):
    """Base of every error thresher raises on purpose."""


class UsageError(ThresherError, ValueError):
    """A command or function was called with arguments that cannot work together."""


class SchemaError(ThresherError, ValueError):
    """Input data (a prediction file, a schema, a table) breaks its format."""


class TableIndexError(SchemaError, IndexError):
    """Rows asked of a table (`thresher.table.Table`) that it cannot give: a mask of the wrong
    length, a row out of range, an index that is neither an integer, a slice, a boolean mask
    nor integer rows."""


class ConfigError(ThresherError, ValueError):
    """A configuration (selection_config, worker_config, …) is invalid."""


class DatasourceError(ThresherError, OSError):
    """A datasource cannot be read: missing folder, unreadable or corrupt file, bad name."""


class NothingToSelectError(ThresherError, ValueError):
    """A run has no sample it could select: an empty datasource, or every sample removed or chosen before."""


class MissingDependencyError(ThresherError, ImportError):
    """An optional dependency is not installed; the message says which extra to install."""


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """Return ' (did you mean "x"?)' for the nearest choice, or '' when none is close."""
    match = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return f' (did you mean "{match[0]}"?)' if match else ""


def require(module: str, extra: str):
    """Import an optional dependency, or raise `MissingDependencyError` with the install hint."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependencyError(f'{module} is needed for this; install it with: pip install "thresher[{extra}]"') from exc


def parse_error(path: object, kind: str, exc: Exception) -> str:
    """One line for a file that does not parse: `path:line:column: not valid KIND: the problem`
    (line and column of the problem, 1-based; what was being read, with where it started).
    `exc` is a YAML (`yaml.MarkedYAMLError`) or JSON (`json.JSONDecodeError`) error.

    >>> import yaml
    >>> try:
    ...     yaml.safe_load("a: {b: 1\\n")
    ... except yaml.YAMLError as exc:
    ...     print(parse_error("run.yaml", "YAML", exc))
    run.yaml:2:1: not valid YAML: expected ',' or '}', but got '<stream end>' (while parsing a flow mapping that starts at line 1, column 4)
    """
    mark = getattr(exc, "problem_mark", None)
    line, column = (mark.line + 1, mark.column + 1) if mark is not None else (getattr(exc, "lineno", None), getattr(exc, "colno", None))
    problem = getattr(exc, "problem", None) or getattr(exc, "msg", None) or str(exc)
    context, start = getattr(exc, "context", None), getattr(exc, "context_mark", None)
    if context:
        problem += f" ({context}" + (f" that starts at line {start.line + 1}, column {start.column + 1}" if start is not None else "") + ")"
    where = f"{path}:{line}:{column}" if line is not None else f"{path}"
    return f"{where}: not valid {kind}: {' '.join(problem.split())}"
