"""Development tooling: the demo, ``make up``, the local Airflow and the emulator loaded with this
project's stack and sample inputs. Not shipped: the Airflow image holds ``plugins/`` only.

The tooling drives the library and the jobs from the checkout, as Airflow does with ``plugins/``.
"""

import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[1]
LOCAL_ENVIRONMENTS = PROJECT_DIR / "infrastructure" / "environments.local.yaml"

for _folder in (PROJECT_DIR / "plugins", PROJECT_DIR / "glue_jobs"):
    if str(_folder) not in sys.path:
        sys.path.append(str(_folder))
