"""What notifications consumes, and consuming it: each event is fanned out into delivery
rows by its rules and the webhook subscriptions (``fanout.py``) in the handler's
transaction; the dispatcher's senders are woken once it commits.

Organization's tree events first go into the kit's read model of the tree (the service's
``tree_handlers``, whose ``directory_changed`` calls :func:`consume`); every other event
type has one generated handler here (:class:`EventHandlers`), its own quorum queue, inbox
dedupe, retries and dead-letter queue.

:func:`consume` takes ``work``, the worker's service instance, used only through
``work.db`` (the session: one unit of work, committed after the handler) and
``work.dispatcher`` (``settings.base_url``, ``written()``).
"""

from gonghui import directory
from gonghui.entrypoints import event_handler
from gonghui.events import types_of
from services.activities import events as activities_events
from services.deeds import events as deeds_events
from services.notifications import events
from services.notifications import schemas as s
from services.notifications.fanout import fan_out
from services.organization import events as org_events

# Organization: its tree (the read model; rules and webhooks follow), and the reminders of
# terms, tasks and regulations; deeds: everything (reminders, and webhooks may subscribe to
# any of it); activities: its reminders. The producers' types, from their contract modules.
_ORGANIZATION, _ACTIVITIES = types_of(org_events), types_of(activities_events)
TREE = tuple(_ORGANIZATION[name] for name in directory.EVENTS)
HANDLED = (  # beside the tree's
    *(_ORGANIZATION[name] for name in ("term_expiring", "term_expired", "follow_up_overdue",
                                       "action_item_created", "regulation_issued")),
    *sorted(types_of(deeds_events).values(), key=lambda declared: declared.name),
    *(_ACTIVITIES[name] for name in ("activity_upcoming", "activity_cancelled",
                                     "signup_promoted", "checkup_missing")),
)
s.CONSUMED.update(declared.type for declared in TREE + HANDLED)
s.CONSUMED.add(events.WEBHOOK_DISABLED.type)  # our own: fanned out in-process

# The tree's handlers are named as these are: their queues and inbox keys stay the same.
TREE_METHOD_PREFIX = "on_organization_"


def method_name(declared):
    return f"on_{declared.producer}_{declared.name}"


def consume(work, event):
    """The event's deliveries, written in the handler's transaction."""
    if fan_out(work.db, event, work.dispatcher.settings.base_url):
        work.dispatcher.written()


def _handler(declared):
    def handle(self, event):
        consume(self, event)

    handle.__name__ = handle.__qualname__ = method_name(declared)
    handle.__doc__ = f"Consumes ``{declared.type}``: rules, webhooks."
    return event_handler(declared)(handle)


class EventHandlers:
    """A mixin of the service class: one reliable handler per type of ``HANDLED``."""


for _declared in HANDLED:
    setattr(EventHandlers, method_name(_declared), _handler(_declared))
