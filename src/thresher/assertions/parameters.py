"""The parameters of a set of assertions: every value resolved and checked before any work.

`resolve_parameters` takes what a user gave (a run file's `thresher.assertions.parameters`, or
`thresher assert` options) and returns, per assertion, every keyword argument of its function
with the defaults filled in: what runs, and what the metadata record keeps. Unknown assertion
names, unknown parameters (with the nearest valid name) and values out of range fail here, as
one `ConfigError` naming the dotted path.

    >>> resolve_parameters(["flicker"], {"flicker": {"max_gap": 2}})["flicker"]["max_gap"]
    2
    >>> resolve_parameters(["flicker"], {}, seed_compatible=True)
    {'flicker': {'iou_thresh_tracking': 0.9, 'iou_thresh_assertion': 0.6}}
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from thresher.assertions.registry import ASSERTIONS, get_assertion
from thresher.assertions.result import AssertionResult
from thresher.assertions.seed000 import seed_flicker
from thresher.detections import Detections
from thresher.errors import ConfigError, ThresherError, did_you_mean
from thresher.frames import Frames


#: Parameters of earlier versions, and what replaced them.
RENAMED = {("flicker", "present_iou"): "use present_overlap with presence: iou for the same test"}


def assertion_function(name: str, seed_compatible: bool = False) -> Callable[..., AssertionResult]:
    """The function computing assertion `name` (seed 000's flicker when `seed_compatible`)."""
    return seed_flicker if name == "flicker" and seed_compatible else get_assertion(name)


def defaults(function: Callable[..., AssertionResult]) -> dict[str, Any]:
    """The function's parameters after (detections, frames), with their default values."""
    signature = inspect.signature(function)
    return {name: p.default for name, p in list(signature.parameters.items())[2:]}


def resolve_parameters(
    names: Sequence[str],
    given: Mapping[str, Mapping[str, Any]] | None,
    *,
    seed_compatible: bool = False,
    where: str = "parameters",
) -> dict[str, dict[str, Any]]:
    """Per assertion of `names`: every parameter, the given ones over the defaults, checked.

    Raises ConfigError (`where` is the dotted path of `given`, e.g.
    "thresher.assertions.parameters") for an unknown assertion, a parameter of an assertion
    not in `names`, an unknown parameter or a value the assertion refuses.
    """
    given = dict(given or {})
    for name in names:
        if name not in ASSERTIONS:
            raise ConfigError(f"assertion: unknown name {name!r}{did_you_mean(name, ASSERTIONS)}; choose from {', '.join(ASSERTIONS)}")
    for name in given:
        if name not in names:
            raise ConfigError(f"{where}.{name}: parameters of an assertion that does not run{did_you_mean(str(name), names)}; running: {', '.join(names)}")
    resolved = {}
    for name in names:
        function = assertion_function(name, seed_compatible)
        known = defaults(function)
        options = dict(given.get(name) or {})
        for key in options:
            if (name, key) in RENAMED and key not in known:
                raise ConfigError(f"{where}.{name}.{key}: renamed; {RENAMED[name, key]}")
            if key not in known:
                mode = " (seed-compatible flicker)" if function is seed_flicker else ""
                raise ConfigError(f"{where}.{name}.{key}: unknown parameter{mode}{did_you_mean(str(key), known)}; valid: {', '.join(known)}")
        values = {**known, **options}
        _check_values(function, values, f"{where}.{name}")
        resolved[name] = values
    return resolved


def _check_values(function: Callable[..., AssertionResult], values: dict[str, Any], where: str) -> None:
    """Run the assertion on an empty video: it checks its arguments first."""
    try:
        function(Detections.empty(), Frames.empty(), **values)
    except ThresherError as exc:
        raise ConfigError(f"{where}.{exc}") from None
    except TypeError as exc:
        raise ConfigError(f"{where}: {exc}") from None
