# Seed 004, the active-learning guide ("Initial Selection", "Active Learning Step"), run by
# tests/compat/test_seed004.py after `lightly_magic(folder, dataset_id="xyz", ...)`, the local
# `lightly-magic input_dir=... dataset_id='xyz' token='123' trainer.max_epochs=0`.
# The guide's code with only the import lines changed (marked `thresher:`), and two edits:
# - the guide assigns `config = SamplerConfig(...)` but queries with `sampler_config`, a
#   NameError under lightly too: the assignment is renamed (marked `thresher: seed defect`);
# - the model the guide leaves to the reader ("train a model", "get predictions") is a
#   scikit-learn logistic regression on the digits (marked `thresher: the user's model`).
from thresher.compat import lightly  # thresher: was `import lightly`
from thresher.compat.lightly import ApiWorkflowClient  # thresher: was `from lightly.api import ApiWorkflowClient`
from thresher.compat.lightly import ActiveLearningAgent  # thresher: was `from lightly.active_learning import ActiveLearningAgent`

api_client = ApiWorkflowClient(dataset_id='xyz', token='123')
al_agent = ActiveLearningAgent(api_client)

from thresher.compat.lightly import SamplerConfig  # thresher: was `from lightly.active_learning import SamplerConfig`
from thresher.compat.lightly import SamplingMethod  # thresher: was `from lightly.openapi_generated.swagger_client import SamplingMethod`

# we want an initial pool of 100 images
sampler_config = SamplerConfig(n_samples=100, method=SamplingMethod.CORESET, name='initial-selection')  # thresher: seed defect, was `config = ...`
initial_selection = al_agent.query(sampler_config)

# initial_selection contains now 100 filenames

# re-initializing the ApiWorkflowClient and ActiveLearningAgent
api_client = ApiWorkflowClient(dataset_id='xyz', token='123')
al_agent = ActiveLearningAgent(api_client, preselected_tag_name='initial-selection')

# get all filenames in the unlabeled set
unlabeled_set = al_agent.unlabeled_set

# thresher: the user's model: label the selected digits (their folder is their class), train,
# and predict class probabilities on the unlabeled set, in its order.
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402

digits = load_digits()
def row_of(filename):  # "<class>/digit_<row>.png"
    return int(filename.split("_")[-1].split(".")[0])
labeled_rows = [row_of(f) for f in al_agent.labeled_set]
labels = [int(f.split("/")[0]) for f in al_agent.labeled_set]
model = LogisticRegression(max_iter=5000).fit(digits.data[labeled_rows], labels)
predictions = model.predict_proba(digits.data[[row_of(f) for f in unlabeled_set]])
# thresher: end of the user's model

from thresher.compat.lightly import ScorerClassification  # thresher: was `from lightly.active_learning.scorers import ScorerClassification`

scorer = ScorerClassification(predictions)

# we want a total of 200 images after the first iteration
# this time, we use the CORAL sampler and provide a scorer to the query
sampler_config = SamplerConfig(n_samples=200, method=SamplingMethod.CORAL, name='al-iteration-1')  # thresher: seed defect, was `config = ...`
labeled_set_iteration_1 = al_agent.query(sampler_config, scorer)

assert len(labeled_set_iteration_1) == 200
