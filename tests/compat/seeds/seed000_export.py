# Seed 000, "Export the Video Frames for Labeling": run by tests/compat/test_seed000.py in the same
# session as the scripts before it, as the seed suggests ("combine this with the script above").
# Only the import line changed (marked `thresher:`); the placeholder "MY_DATASET_ID" is filled
# with the id the script above created (`dataset_id`), as the user has to.
from thresher.compat.lightly import ApiWorkflowClient  # thresher: was `from lightly.api import ApiWorkflowClient`
# Create the Lightly client to connect to the API.
# You can also combine this with the script above and reuse the client.
client = ApiWorkflowClient(token="MY_LIGHTLY_TOKEN", dataset_id="MY_DATASET_ID")
# get the filenames with signed read URLs
filenames_and_read_urls = client.export_filenames_and_read_urls_by_tag_name(
    tag_name="initial-tag" # name of the tag in the dataset
)
with open("filenames-and-readurls-of-initial-tag.json", "w") as f:
    json.dump(filenames_and_read_urls, f)
