from gonghui.directory import DIRECTORY_METADATA
from gonghui.migrations import run_env
from services.gateway.models import Model

run_env(Model.metadata, DIRECTORY_METADATA)
