"""The built-in detector under OpenCV 5.1, which removed the TensorFlow importer: one clear line, exit 1.

The real opencv-python-headless 5.1.0.95 wheel (hash-pinned in requirements/opencv-5.1.txt,
downloaded by `make test`) is unpacked into a folder put first on PYTHONPATH, so `import cv2`
finds it instead of the OpenCV of the environment; thresher runs as the user runs it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from thresher.demo import demo_config

WHEELS = Path(sys.prefix) / "downloads" / "opencv-5.1"
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not any(WHEELS.glob("*.whl")), reason=f"no OpenCV 5.1 wheel in {WHEELS}: `make test` downloads it (requirements/opencv-5.1.txt)"),
]
EXPECTED = 'error: the built-in detector needs cv2.dnn.readNetFromTensorflow, which OpenCV 5.1.0 does not have (removed in 5.1): pip install "opencv-python-headless<5.1"'


@pytest.fixture(scope="module")
def opencv_51(tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("opencv-5.1")
    wheel = next(WHEELS.glob("*.whl"))
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-index", "--no-deps", "--target", str(target), str(wheel)], check=True)
    return target


def thresher(args: list[str], opencv: Path, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(opencv))
    return subprocess.run([sys.executable, "-m", "thresher", *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=300)


def test_the_wheel_is_opencv_5_1_without_the_tensorflow_importer(opencv_51, tmp_path):
    probe = "import cv2; print(cv2.__version__, hasattr(cv2.dnn, 'readNetFromTensorflow'))"
    out = subprocess.run([sys.executable, "-c", probe], env=dict(os.environ, PYTHONPATH=str(opencv_51)), capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["5.1.0", "False"]


@pytest.mark.parametrize("command", ["predict", "embed", "run"])
def test_predict_embed_and_run_stop_with_one_line_naming_the_version_and_the_fix(command, opencv_51, carphone_mp4, tmp_path):
    datasource = tmp_path / "datasource"
    datasource.mkdir()
    (datasource / carphone_mp4.name).write_bytes(carphone_mp4.read_bytes())
    args = {"predict": ["predict", "datasource"], "embed": ["embed", "datasource", "--model", "ssd-mobilenet-v2-coco"]}
    if command == "run":
        (tmp_path / "run.yaml").write_text(yaml.safe_dump(demo_config()))
        args["run"] = ["run", "datasource", "--config", "run.yaml"]
    result = thresher(args[command], opencv_51, tmp_path)
    assert result.returncode == 1, result.stderr
    assert result.stderr.strip().splitlines()[-1] == EXPECTED
    assert "Traceback" not in result.stderr and "AttributeError" not in result.stderr
