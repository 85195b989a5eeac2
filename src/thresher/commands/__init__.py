"""The CLI's subcommands, one module per command group; importing one registers it on `app`."""

from thresher.commands import datasource, models, run, select  # noqa: F401
from thresher.commands import convert  # noqa: F401
from thresher.commands import autolabel  # noqa: F401
from thresher.commands import simulate  # noqa: F401
from thresher.commands import report  # noqa: F401
