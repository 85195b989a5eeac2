"""The CLI's subcommands, one module per command, named after it (`assert` in assertion.py);
importing one registers it on `app`. `common` holds what several of them share."""

# in the order `thresher --help` lists them: the datasource, the models, the run, the rest
from thresher.commands import validate, samples, demo  # noqa: F401
from thresher.commands import predict, embed, fuse, assertion  # noqa: F401
from thresher.commands import run, score, select  # noqa: F401
from thresher.commands import convert, autolabel, simulate, report, serve  # noqa: F401
