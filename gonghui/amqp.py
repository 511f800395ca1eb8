"""Raw AMQP publishing with pipelined publisher confirms (kombu connection, py-amqp channel).

nameko's own publisher waits for one confirm per message; the outbox relay sends a batch and
then waits for all its confirms, which is what lifts a single publisher's ceiling.
"""

import json
import logging

import amqp
from kombu import Connection

log = logging.getLogger(__name__)


class PublishFailed(Exception):
    """The broker nacked a message, or did not confirm it in time."""


class ConfirmingPublisher:
    """One connection and one confirm-mode channel, reopened after any failure."""

    def __init__(self, amqp_uri, confirm_timeout=10.0):
        self.amqp_uri = amqp_uri
        self.confirm_timeout = confirm_timeout
        self._connection = None
        self._channel = None
        self._acked = set()
        self._nacked = set()
        self.returned = []

    def _open(self):
        if self._channel is not None:
            return
        # Heartbeats are off: an idle relay greenthread would not service them; a dead
        # connection surfaces as an error on the next publish, and we reopen.
        self._connection = Connection(self.amqp_uri, heartbeat=0, connect_timeout=5)
        self._connection.connect()
        channel = self._connection.connection.channel()
        channel.confirm_select()
        channel.events["basic_ack"].add(self._on_ack)
        channel.events["basic_nack"].add(self._on_nack)
        channel.events["basic_return"].add(self._on_return)
        self._channel = channel
        self._next_tag = 1

    def _on_ack(self, delivery_tag, multiple):
        self._mark(self._acked, delivery_tag, multiple)

    def _on_nack(self, delivery_tag, multiple):
        self._mark(self._nacked, delivery_tag, multiple)

    def _mark(self, bucket, delivery_tag, multiple):
        if multiple:
            bucket.update(t for t in self._pending if t <= delivery_tag)
        else:
            bucket.add(delivery_tag)

    def _on_return(self, exc, exchange, routing_key, message):
        self.returned.append((exchange, routing_key))

    def publish_batch(self, messages):
        """Publish ``(exchange, routing_key, body, properties)`` tuples; return once all are
        confirmed. Raises PublishFailed (after closing the connection) otherwise."""
        try:
            self._open()
            self._pending = set()
            self._acked.clear()
            self._nacked.clear()
            for exchange, routing_key, body, properties in messages:
                if not isinstance(body, (bytes, str)):
                    body = json.dumps(body, ensure_ascii=False)
                props = {"content_type": "application/json", "content_encoding": "utf-8",
                         "delivery_mode": 2}
                props.update(properties or {})
                mandatory = props.pop("mandatory", False)
                if "headers" in props:  # kombu's name for py-amqp's application_headers
                    props["application_headers"] = props.pop("headers")
                props = {k: v for k, v in props.items() if v is not None}
                msg = amqp.Message(body, **props)
                self._channel.basic_publish(msg, exchange=exchange, routing_key=routing_key,
                                            mandatory=mandatory)
                self._pending.add(self._next_tag)
                self._next_tag += 1
            while not self._pending <= (self._acked | self._nacked):
                self._connection.connection.drain_events(timeout=self.confirm_timeout)
            if self._pending & self._nacked:
                raise PublishFailed(f"broker nacked {len(self._pending & self._nacked)} message(s)")
        except (TimeoutError, OSError, amqp.exceptions.AMQPError, PublishFailed) as exc:
            self.close()
            if isinstance(exc, PublishFailed):
                raise
            raise PublishFailed(f"publish failed: {exc!r}") from exc

    def publish(self, exchange, routing_key, body, properties=None):
        self.publish_batch([(exchange, routing_key, body, properties)])

    def close(self):
        if self._connection is not None:
            try:
                self._connection.release()
            except Exception:  # noqa: BLE001 - closing a broken connection
                pass
        self._connection = None
        self._channel = None
