# Seed 004, the example of `ActiveLearningAgent`'s docstring, run by tests/compat/test_seed004.py
# after `lightly_magic(folder, dataset_id="XYZ", ...)`. The example has no import lines: the one
# below brings the names it uses (marked `thresher:`). The model it leaves to the reader
# ("train and evaluate a model", "make predictions on the query set") is marked
# `thresher: the user's model`.
from thresher.compat.lightly import ActiveLearningAgent, ApiWorkflowClient, SamplerConfig, ScorerClassification  # thresher: the example's names

# set the token and dataset id
token = '123'
dataset_id = 'XYZ'

# create an active learning agent
client = ApiWorkflowClient(token, dataset_id)
agent = ActiveLearningAgent(client)

# make an initial active learning query
sampler_config = SamplerConfig(n_samples=100, name='initial-set')
agent.query(sampler_config)
initial_set = agent.labeled_set

# train and evaluate a model on the initial set
# make predictions on the query set:
query_set = agent.query_set
# important:
# be sure to keep the order of the query set when you make predictions

# thresher: the user's model (the digits' folder is their class)
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402

digits = load_digits()
def row_of(filename):  # "<class>/digit_<row>.png"
    return int(filename.split("_")[-1].split(".")[0])
model = LogisticRegression(max_iter=5000).fit(digits.data[[row_of(f) for f in initial_set]], [int(f.split("/")[0]) for f in initial_set])
predictions = model.predict_proba(digits.data[[row_of(f) for f in query_set]])
# thresher: end of the user's model

# create active learning scorer
scorer = ScorerClassification(predictions)

# make a second active learning query
sampler_config = SamplerConfig(n_samples=200, name='second-set')
agent.query(sampler_config, scorer)
added_set = agent.added_set # access only the samples added by this query
