# Seed 000, "Process the dataset": run by tests/compat/test_seed000.py against a local S3 server.
# The seed's code with only the import lines changed (marked `thresher:`).
from thresher.compat.lightly import ApiWorkflowClient  # thresher: was `from lightly.api import ApiWorkflowClient`
from thresher.compat.lightly import DatasetType  # thresher: was `from lightly.openapi_generated.swagger_client import DatasetType`
from thresher.compat.lightly import DatasourcePurpose  # thresher: was `from lightly.openapi_generated.swagger_client import DatasourcePurpose`
# Create the LightlyOne client to connect to the API.
client = ApiWorkflowClient(token="MY_LIGHTLY_TOKEN")
# Create a new dataset on the LightlyOne Platform.
client.create_dataset(
    dataset_name="assertion-based-yolov8", dataset_type=DatasetType.VIDEOS
)
dataset_id = client.dataset_id
# Configure the Input datasource.
client.set_s3_delegated_access_config(
    resource_path="s3://yourInputBucket/model_assertion_input/",
    region="eu-central-1",
    role_arn="S3-ROLE-ARN",
    external_id="S3-EXTERNAL-ID",
    purpose=DatasourcePurpose.INPUT,
)
# Configure the Lightly datasource.
client.set_s3_delegated_access_config(
    resource_path="s3://yourInputBucket/model_assertion_lightly/",
    region="eu-central-1",
    role_arn="S3-ROLE-ARN",
    external_id="S3-EXTERNAL-ID",
    purpose=DatasourcePurpose.LIGHTLY,
)
scheduled_run_id = client.schedule_compute_worker_run(
    worker_config={},
    selection_config={
        "n_samples": 100,
        "strategies": [
            {
                # strategy to find diverse objects
                "input": {
                    "type": "EMBEDDINGS",
                    "task": "yolov8_detection",
                },
                "strategy": {
                    "type": "DIVERSITY",
                },
            },
            {
                # strategy to use prediction score (Active Learning)
                "input": {
                    "type": "SCORES",
                    "task": "yolov8_detection",
                    "score": "objectness_least_confidence",
                },
                "strategy": {"type": "WEIGHTS"},
            },
            {
                # strategy to use flickering score (assertion based Active Learning)
                "input": {"type": "METADATA", "key": "flickering"},
                "strategy": {
                    "type": "WEIGHTS",
                },
            },
        ],
    },
    lightly_config={},
)
