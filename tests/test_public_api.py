import inspect

import thresher


def test_all_is_complete_and_sorted():
    public = {n for n, v in vars(thresher).items() if not n.startswith("_") and not inspect.ismodule(v)}
    assert public <= set(thresher.__all__)
    assert thresher.__all__ == sorted(thresher.__all__, key=str.lower) or sorted(thresher.__all__) == thresher.__all__
    for name in thresher.__all__:
        assert hasattr(thresher, name), name
