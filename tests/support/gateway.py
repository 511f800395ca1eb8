"""Helpers of the gateway's tests over HTTP (the ``stack`` fixture, logins and problem
documents are in tests/service/test_gateway_access.py)."""

from tests.service.test_gateway_access import wait_until

READ_MODEL = ("units", "unions", "members", "roles")


def wait_for_read_models(proxy, services, timeout=30):
    """Until each of ``services`` (started before the demo was loaded) holds organization's
    tree in its read model."""
    expected = proxy.organization.directory_status()

    def caught_up():
        return all({k: getattr(proxy, name).directory_status()[k] for k in READ_MODEL}
                   == {k: expected[k] for k in READ_MODEL} for name in services)

    wait_until(caught_up, timeout)
