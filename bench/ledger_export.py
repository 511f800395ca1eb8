"""The ledger export of a year, with and without its detail sheets, on the benchmark's data.

    .venv/bin/python bench/deeds_year.py        # leaves its database gonghui_bench_deeds
    .venv/bin/python bench/ledger_export.py [--database gonghui_bench_deeds]

Method: one process, no broker. ``DeedsService`` is built by nameko's ``worker_factory``
with a real SQLAlchemy session on the benchmark's database as its ``db``, and
``export_ledger(year=2021, details=...)`` is called as the RPC entrypoint would call it
(arguments loaded, result dumped, the workbook base64-encoded). Printed per call: wall time,
sheet rows, the size of the .xlsx, and the process's peak RSS (``ru_maxrss``) after it.
The details call runs second, so its peak includes the first call's.
"""

import argparse
import base64
import resource
import time

from nameko.testing.services import worker_factory
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from deploy import infra
from services.deeds.service import DeedsService


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="gonghui_bench_deeds")
    parser.add_argument("--year", type=int, default=2021)
    args = parser.parse_args()
    url = make_url(infra.PG_ADMIN_URL).set(database=args.database)
    engine = create_engine(url)
    with Session(engine) as session:
        for details in (False, True):
            service = worker_factory(DeedsService, db=session)
            t0 = time.perf_counter()
            out = service.export_ledger(year=args.year, details=details)
            seconds = time.perf_counter() - t0
            size = len(base64.b64decode(out["content_base64"]))
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(f"export_ledger(year={args.year}, details={details}): {seconds:.2f} s; "
                  f"items {out['rows']}, reports {out['reports']}, "
                  f"supervision orders {out['supervision_orders']}, objections "
                  f"{out['objections']}; xlsx {size / 2**20:.2f} MB; peak RSS {peak:.0f} MB")
    engine.dispose()


if __name__ == "__main__":
    main()
