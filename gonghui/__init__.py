"""Gonghui's shared kit: what every service stands on.

Database session per worker, transactional outbox and its relay, idempotent event handling
with bounded retries and a dead-letter queue, typed errors, the clock and working-day
calendar, audit trail, health check and the generators of the public contract documents.
"""
