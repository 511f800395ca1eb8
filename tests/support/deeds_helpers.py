"""Shared set-up of the deeds tests: organization and deeds running, the demo union
loaded, and deeds' read model of the tree caught up from organization's events."""

import time

from deploy.demo.organization import load_demo


def caught_up(consumer, organization):
    """Whether a consumer's read model of the tree holds organization's members and roles
    (both ``directory_status``); returns the consumer's counts, or None."""
    counts, expected = consumer.directory_status(), organization.directory_status()
    if all(counts[key] >= expected[key] for key in ("members", "roles")):
        return counts
    return None


def wait_for_directory(proxy, timeout=30):
    deadline = time.monotonic() + timeout
    while True:
        counts = caught_up(proxy.deeds, proxy.organization)
        if counts is not None:
            return counts
        assert time.monotonic() < deadline, (
            f"deeds' read model did not catch up: {proxy.deeds.directory_status()}")
        time.sleep(0.2)


def load_union(proxy):
    load_demo(proxy)
    return wait_for_directory(proxy)
