import inspect

import thresher


def test_all_lists_every_public_name_and_only_those():
    public = {n for n, v in vars(thresher).items() if not n.startswith("_") and not inspect.ismodule(v)}
    assert public == set(thresher.__all__) - {"__version__"}
    assert len(thresher.__all__) == len(set(thresher.__all__))


def test_subpackages_have_complete_all():
    import importlib

    names = ["assertions", "models", "scorers", "select", "report", "app", "engines", "compat.lightly", "autolabel", "simulate", "run"]
    for module in (importlib.import_module(f"thresher.{name}") for name in names):
        for name in module.__all__:
            assert hasattr(module, name), f"{module.__name__}.{name}"
