"""LightlyOne datasource configurations as fsspec URLs and storage options.

`set_s3_config`, `set_s3_delegated_access_config`, `set_gcs_config`, `set_azure_config` and
`set_local_config` of the seeds' `ApiWorkflowClient` become a `DatasourceConfig`: the URL fsspec
opens and the options it passes to s3fs, gcsfs or adlfs. Nothing is contacted when a config is
set; the datasource is opened when a run needs it.

- S3 with keys: `key`, `secret` and the region. The endpoint comes from the usual AWS settings
  (`AWS_ENDPOINT_URL_S3` / `AWS_ENDPOINT_URL`, `~/.aws/config`), e.g. a local S3 server.
- S3 with delegated access: the role (`role_arn`, `external_id`) is recorded but not assumed:
  there is no LightlyOne account to delegate to. Credentials come from the default AWS chain
  (environment, `~/.aws/credentials`, a profile that assumes the role, an instance role).
- GCS: `project` and `token` = the service-account credentials (a JSON string or dict).
- Azure: `az://<container_name>` with `account_name` and `sas_token`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from thresher.compat.lightly_datasets import DatasourceConfig
from thresher.compat.lightly_enums import DatasourcePurpose
from thresher.errors import UsageError, did_you_mean
from thresher.io.datasource import Datasource
from thresher.io.storage import Location, is_url


def purpose_of(purpose: object) -> DatasourcePurpose:
    """A DatasourcePurpose from the enum or its name; UsageError naming the valid ones."""
    try:
        return DatasourcePurpose(str(purpose))
    except ValueError:
        names = [p.value for p in DatasourcePurpose]
        raise UsageError(f"purpose: expected one of {names}, got {purpose!r}{did_you_mean(str(purpose), names)}") from None


def _with_slash_removed(url: str) -> str:
    return url.rstrip("/") if url.rstrip("/") else url


def local_config(resource_path: str | os.PathLike) -> DatasourceConfig:
    """A local folder (a path, or a `file://` URL)."""
    text = os.fspath(resource_path)
    if text.startswith("file://"):
        text = text[len("file://") :]
    if not text or is_url(text):
        raise UsageError(f"resource_path: expected a local folder, got {os.fspath(resource_path)!r}")
    return DatasourceConfig(str(Path(text).expanduser().resolve()), {}, "LOCAL")


def s3_config(resource_path: str, region: str, access_key: str, secret_access_key: str) -> DatasourceConfig:
    _expect_scheme(resource_path, ("s3://",))
    options = {"key": access_key, "secret": secret_access_key, "client_kwargs": {"region_name": region}}
    return DatasourceConfig(_with_slash_removed(resource_path), options, "S3")


def s3_delegated_access_config(resource_path: str, region: str, role_arn: str, external_id: str) -> DatasourceConfig:
    _expect_scheme(resource_path, ("s3://",))
    options = {"client_kwargs": {"region_name": region}}
    return DatasourceConfig(_with_slash_removed(resource_path), options, "S3_DELEGATED_ACCESS")


def gcs_config(resource_path: str, project_id: str, credentials: str | Mapping[str, Any]) -> DatasourceConfig:
    _expect_scheme(resource_path, ("gs://", "gcs://"))
    token = credentials
    if isinstance(credentials, str):
        try:
            token = json.loads(credentials)
        except ValueError:
            raise UsageError("credentials: expected the service account's JSON credentials as a string, e.g. json.dumps(json.load(open('credentials.json')))") from None
    return DatasourceConfig(_with_slash_removed(resource_path), {"project": project_id, "token": token}, "GCS")


def azure_config(container_name: str, account_name: str, sas_token: str) -> DatasourceConfig:
    if not isinstance(container_name, str) or not container_name.strip("/"):
        raise UsageError(f"container_name: expected 'container' or 'container/folder', got {container_name!r}")
    url = f"az://{container_name.strip('/')}"
    return DatasourceConfig(url, {"account_name": account_name, "sas_token": sas_token}, "AZURE")


def _expect_scheme(url: object, schemes: tuple[str, ...]) -> None:
    if not isinstance(url, str) or not url.startswith(schemes):
        raise UsageError(f"resource_path: expected a URL starting with {' or '.join(schemes)}, got {url!r}")


def open_datasource(input: DatasourceConfig | None, lightly: DatasourceConfig | None, dataset: str) -> Datasource:
    """The thresher Datasource of an INPUT and an optional LIGHTLY config (each with its options)."""
    if input is None:
        raise UsageError(
            f"dataset {dataset!r} has no INPUT datasource: call set_local_config(folder) or "
            "set_s3_config / set_gcs_config / set_azure_config with purpose=DatasourcePurpose.INPUT first"
        )
    source = Datasource(input.url, None, _fresh(input))
    if lightly is not None and (lightly.url, lightly.storage_options) != (input.url, input.storage_options):
        # The LIGHTLY location may need other credentials than the input, and may still be
        # empty (a new output bucket where pretagging writes): it is not required to exist.
        source.lightly = Location(lightly.url, _fresh(lightly))
    return source


def _fresh(config: DatasourceConfig) -> dict[str, Any]:
    """Storage options that give a new file system object for a bucket: fsspec reuses one per
    set of options, with its cached listings, so a long-lived process would not see files
    added to the bucket since it last listed it."""
    return {**config.storage_options, "skip_instance_cache": True} if is_url(config.url) else config.storage_options
