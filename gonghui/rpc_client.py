"""Calling services by RPC, always with a timeout.

nameko's in-service RpcProxy waits forever; ``ServiceRpc`` wraps each call in an eventlet
timeout and raises ``ServiceTimeout``. ``cluster_rpc`` is the standalone client for
operators, the gateway and tests.
"""

import contextlib

import eventlet
from nameko.rpc import RpcProxy
from nameko.standalone.rpc import ClusterRpcProxy

from gonghui.errors import ServiceTimeout

DEFAULT_TIMEOUT = 10.0


class _TimedMethod:
    def __init__(self, proxy, service, method, timeout):
        self._method = getattr(proxy, method)
        self._label = f"{service}.{method}"
        self._timeout = timeout

    def __call__(self, *args, **kwargs):
        with eventlet.Timeout(self._timeout, ServiceTimeout(
                f"{self._label} did not answer within {self._timeout}s")):
            return self._method(*args, **kwargs)


class _TimedService:
    def __init__(self, proxy, service, timeout):
        self._proxy, self._service, self._timeout = proxy, service, timeout

    def __getattr__(self, method):
        return _TimedMethod(self._proxy, self._service, method, self._timeout)


class ServiceRpc(RpcProxy):
    """``other = ServiceRpc("organization")``; ``self.other.get_unit(unit_id=1)``."""

    def get_dependency(self, worker_ctx):
        timeout = float(self.container.config.get("RPC_TIMEOUT", DEFAULT_TIMEOUT))
        return _TimedService(super().get_dependency(worker_ctx), self.target_service, timeout)


@contextlib.contextmanager
def cluster_rpc(amqp_uri, actor=None, timeout=DEFAULT_TIMEOUT, **config):
    context = {"actor": str(actor)} if actor else None
    with ClusterRpcProxy({"AMQP_URI": amqp_uri, **config}, context_data=context,
                         timeout=timeout) as proxy:
        yield proxy


