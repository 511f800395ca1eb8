"""A plain AMQP subscriber, as a downstream system binds one; used by tests and benchmarks.

Its own durable queue bound to ``<service>.events`` (topic) for a routing key; every
message is acked after ``on_message`` ran. Needs eventlet (a greenthread drains events).
"""

import uuid

import eventlet
from kombu import Connection, Exchange, Queue


def drain_forever(connection):
    while True:
        try:
            connection.drain_events(timeout=0.5)
        except TimeoutError:
            continue
        except Exception:  # noqa: BLE001 - the connection was closed: stop draining
            return


class PlainSubscriber:
    queue_prefix = "downstream.test"

    def __init__(self, amqp_uri, exchange, routing_key="#"):
        self.connection = Connection(amqp_uri)
        self.queue = Queue(f"{self.queue_prefix}-{uuid.uuid4().hex[:8]}",
                           Exchange(exchange, type="topic", durable=True, no_declare=True),
                           routing_key=routing_key, durable=True)
        self.consumer = self.connection.Consumer([self.queue], callbacks=[self._on_message],
                                                 accept=["json"])
        self.consumer.consume()
        self.thread = eventlet.spawn(drain_forever, self.connection)

    def on_message(self, body, message):
        raise NotImplementedError

    def _on_message(self, body, message):
        self.on_message(body, message)
        message.ack()

    def close(self):
        self.thread.kill()
        self.connection.release()
