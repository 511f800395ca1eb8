from gonghui.migrations import run_env
from services.organization.models import Model

run_env(Model.metadata)
