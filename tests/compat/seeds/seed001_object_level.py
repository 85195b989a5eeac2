# Seed 001, the object-level run with the user's predictions (Python block of the seed), run by
# tests/compat/test_seed001.py. Only the import lines changed (marked `thresher:`), plus two
# edits the seed's own text asks for: one datasource block of the three, and the optional
# SCORES strategy included.
import json
from thresher.compat import lightly  # thresher: was `import lightly`
from thresher.compat.lightly import DatasetType  # thresher: was `from lightly.openapi_generated.swagger_client.models.dataset_type import DatasetType`
from thresher.compat.lightly import DatasourcePurpose  # thresher: was `from lightly.openapi_generated.swagger_client.models.datasource_purpose import DatasourcePurpose`

# Create the Lightly client to connect to the API.
client = lightly.api.ApiWorkflowClient(token="YOUR_TOKEN")

# Create a new dataset on the Lightly Platform.
client.create_dataset('dataset-name',
                      dataset_type=DatasetType.IMAGES)

# Pick one of the following three blocks depending on where your data is
# AWS S3
# Input bucket
client.set_s3_config(
    resource_path="s3://bucket/input/",
    region='eu-central-1',
    access_key='S3-ACCESS-KEY',
    secret_access_key='S3-SECRET-ACCESS-KEY',
    purpose=DatasourcePurpose.INPUT
)
# Output bucket
client.set_s3_config(
    resource_path="s3://bucket/output/",
    region='eu-central-1',
    access_key='S3-ACCESS-KEY',
    secret_access_key='S3-SECRET-ACCESS-KEY',
    purpose=DatasourcePurpose.LIGHTLY
)


# thresher: the Google Cloud Storage and Azure blocks are left out ("Pick one of the following three blocks")

# Schedule the docker run with the "object_level.task_name" argument set. 
# All other settings are default values and we show them so you can easily edit
# the values according to your need.
client.schedule_compute_worker_run(
    worker_config={
        "enable_corruptness_check": True,
        "remove_exact_duplicates": True,
        "enable_training": False,
        "pretagging": False,
        "pretagging_debug": False,
        "object_level": { # used for object level workflow
            "task_name": "vehicles_object_detections" 
        },
    },
    selection_config={
        "n_samples": 100,
        "strategies": [
            {
                "input": {
                    "type": "EMBEDDINGS"
                },
                "strategy": {
                    "type": "DIVERSITY",
                }
            },
            # Optionally, you can combine diversity selection with active learning
            # to prefer selecting objects the model struggles with.
            # If you want that, just include the following code:
            # thresher: included, as the comment says (the seed has it inside a string, which is no strategy)
            {
                "input": {
                    "type": "SCORES",
                    "task": "vehicles_object_detections", # change to your task
                    "score": "uncertainty_entropy" # change to your preferred score
                },
                "strategy": {
                    "type": "WEIGHTS"
                }
            }
        ]
    },
    lightly_config={
        'loader': {
            'batch_size': 16,
            'shuffle': True,
            'num_workers': -1,
            'drop_last': True
        },
        'model': {
            'name': 'resnet-18',
            'out_dim': 128,
            'num_ftrs': 32,
            'width': 1
        },
        'trainer': {
            'gpus': 1,
            'max_epochs': 100,
            'precision': 32
        },
        'criterion': {
            'temperature': 0.5
        },
        'optimizer': {
            'lr': 1,
            'weight_decay': 0.00001
        },
        'collate': {
            'input_size': 64,
            'cj_prob': 0.8,
            'cj_bright': 0.7,
            'cj_contrast': 0.7,
            'cj_sat': 0.7,
            'cj_hue': 0.2,
            'min_scale': 0.15,
            'random_gray_scale': 0.2,
            'gaussian_blur': 0.5,
            'kernel_size': 0.1,
            'vf_prob': 0,
            'hf_prob': 0.5,
            'rr_prob': 0
        }
    }
)
