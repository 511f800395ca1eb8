"""Units' group robots: one WeCom (企业微信) and one DingTalk (钉钉) webhook per unit, the
channels of the rules whose audience names a unit's robots. Their URLs carry a key: they
are only ever shown masked.

Each use case takes ``work``, the worker's service instance, used only through ``work.db``
(the session: one unit of work, committed after the entrypoint) and ``work.emit(declared,
data, aggregate)``.
"""

from gonghui import directory
from gonghui.errors import NotFound
from services.notifications import events, payloads, queries
from services.notifications.dispatcher import mask_url
from services.notifications.models import UnitRobot


def robot_out(robot):
    return {"id": robot.id, "unit_id": robot.unit_id, "kind": robot.kind, "name": robot.name,
            "webhook_url": mask_url(robot.webhook_url), "signed": bool(robot.secret),
            "enabled": robot.enabled, "rate_limit": robot.rate_limit}


def set_unit_robot(work, unit_id, kind, webhook_url, secret, name, enabled, rate_limit):
    directory.unit(work.db, unit_id)
    robot = queries.robot(work.db, unit_id, kind)
    if robot is None:
        robot = UnitRobot(unit_id=unit_id, kind=kind)
        work.db.add(robot)
    robot.webhook_url, robot.secret, robot.name, robot.enabled = (webhook_url, secret, name,
                                                                  enabled)
    robot.rate_limit = rate_limit
    work.db.flush()
    work.emit(events.ROBOT_CHANGED, payloads.robot_changed(unit_id, kind, name, enabled),
              ("unit_robot", robot.id))
    return robot_out(robot)


def list_unit_robots(work, unit_id):
    return [robot_out(robot) for robot in queries.robots(work.db, unit_id)]


def remove_unit_robot(work, unit_id, kind):
    robot = queries.robot(work.db, unit_id, kind)
    if robot is None:
        raise NotFound(f"unit {unit_id} has no {kind} robot", {"kind": ["not found"]})
    out = robot_out(robot)
    work.db.delete(robot)
    work.emit(events.ROBOT_CHANGED,
              payloads.robot_changed(unit_id, kind, robot.name, False, removed=True),
              ("unit_robot", robot.id))
    return out
