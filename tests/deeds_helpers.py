"""Shared set-up of the deeds tests: organization and deeds running, the demo union
loaded, and deeds' read model of the tree caught up from organization's events."""

import time

from deploy.demo import load_demo


def wait_for_directory(proxy, members=None, timeout=30):
    expected = members or len(proxy.organization.list_members(limit=5000))
    deadline = time.monotonic() + timeout
    while True:
        counts = proxy.deeds.directory_counts()
        roles = len(proxy.organization.directory_snapshot()["roles"])
        if counts["members"] >= expected and counts["roles"] >= roles:
            return counts
        assert time.monotonic() < deadline, f"deeds' read model did not catch up: {counts}"
        time.sleep(0.2)


def load_union(proxy):
    load_demo(proxy)
    return wait_for_directory(proxy)
