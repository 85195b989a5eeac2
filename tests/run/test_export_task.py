import pytest

from thresher.errors import ConfigError
from thresher.run.config import load_run_config
from thresher.run.export_task import export_task


def config(strategies=(), **sections):
    selection = {"n_samples": 2, "strategies": [{"input": {"type": "EMBEDDINGS"}, "strategy": {"type": "DIVERSITY"}}, *strategies]}
    return load_run_config({"selection_config": selection, **sections})


def scores(task):
    return {"input": {"type": "SCORES", "task": task, "score": "objectness_least_confidence"}, "strategy": {"type": "WEIGHTS"}}


def test_the_task_the_run_reads_wins_over_pretagging():
    assert export_task(config([scores("mine")], worker_config={"pretagging": True})) == "mine"
    assert export_task(config(worker_config={"pretagging": True})) == "lightly_pretagging"
    assert export_task(config()) is None
    assert export_task(config(worker_config={"object_level": {"task_name": "objs"}})) == "objs"
    assert export_task(config(thresher={"assertions": {"task": "mine"}}), assertion_task="mine") == "mine"


def test_several_tasks_need_a_choice():
    several = config([scores("a")], worker_config={"object_level": {"task_name": "b"}})
    with pytest.raises(ConfigError, match=r"several prediction tasks \(a, b\).*thresher: \{exports: \{task: a\}\}"):
        export_task(several)
    chosen = config([scores("a")], worker_config={"object_level": {"task_name": "b"}}, thresher={"exports": {"task": "b"}})
    assert export_task(chosen) == "b"
    # assertions on another task than the selection's: a second task the run reads
    with pytest.raises(ConfigError, match=r"\(mine, lightly_pretagging\)"):
        export_task(config([scores("mine")], worker_config={"pretagging": True}), assertion_task="lightly_pretagging")


def test_the_assertion_plan_and_the_exports_agree_on_the_task(tmp_path):
    from thresher.io.storage import Location
    from thresher.run.assertions import plan_assertions

    run_config = config([scores("mine")], worker_config={"pretagging": True}, thresher={"assertions": {"names": ["flicker"]}})
    (tmp_path / ".lightly" / "predictions").mkdir(parents=True)
    (tmp_path / ".lightly" / "predictions" / "tasks.json").write_text('["mine"]')
    plan = plan_assertions(run_config, Location(tmp_path))
    assert plan.task == "mine" and export_task(run_config, plan.task) == "mine"
