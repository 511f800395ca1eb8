"""The channels a notice goes out on. Each sender raises :class:`ChannelError` on failure:
``permanent`` ones (no address, target removed) are dead at once, others are retried."""


class ChannelError(Exception):
    def __init__(self, message, permanent=False):
        super().__init__(message)
        self.permanent = permanent
