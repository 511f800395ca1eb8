from gonghui.migrations import run_env
from services.notifications.models import Model

run_env(Model.metadata)
