"""The assertions by name, for the CLI's `--assertion flicker,appear,...` and configs."""

from __future__ import annotations

from collections.abc import Callable

from thresher.assertions.appear import appear
from thresher.assertions.class_switch import class_switch
from thresher.assertions.flicker import flicker
from thresher.assertions.multibox import multibox
from thresher.assertions.result import AssertionResult
from thresher.errors import UsageError, did_you_mean

#: name -> function(detections, frames, **parameters) -> AssertionResult
ASSERTIONS: dict[str, Callable[..., AssertionResult]] = {
    "flicker": flicker,
    "appear": appear,
    "multibox": multibox,
    "class_switch": class_switch,
}


def get_assertion(name: str) -> Callable[..., AssertionResult]:
    """The assertion function called `name`; UsageError naming the choices otherwise."""
    if name not in ASSERTIONS:
        raise UsageError(f"assertion: unknown name {name!r}{did_you_mean(name, ASSERTIONS)}; choose from {', '.join(ASSERTIONS)}")
    return ASSERTIONS[name]
