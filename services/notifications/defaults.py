"""The default reminder rules, seeded by the migrations (the first, and a revision for each
later change of defaults) and added by key at a replica's start when missing; operators
change them by RPC (``update_rule``, ``create_rule``), validated like any other input.

Subject and period make the dedupe key: a monthly report reminder is "the same" for one item
and one month, an escalation for one order and one escalation level, and so on.
"""

PERSONAL = ["inbox", "email"]
ROBOTS = ["wecom", "dingtalk"]


def rule(key, event_type, audience, template, urgency, kind, subject, period,
         channels=PERSONAL, description=""):
    return {"key": key, "event_type": event_type, "audience": audience, "channels": channels,
            "template": template, "urgency": urgency, "kind": kind, "subject": subject,
            "period": period, "description": description}


def submitter_rule(event, template, urgency, subject, period, description=""):
    """The idea's submitter hears in the inbox of a move of the deed made from the idea."""
    return rule(f"{event}.submitter", f"deeds.{event}", ["idea_submitter"], template, urgency,
                "idea", subject, period, channels=["inbox"], description=description)


DEFAULT_RULES = [
    # ---- deeds: the monthly report cycle, supervision and escalation
    rule("report_due", "deeds.report_due", ["responsible", "recipients"], "report_due",
         "normal", "reminder", "item:{item_id}", "{period}",
         description="A monthly report falls due: the responsible person and the listed "
                     "recipients."),
    rule("report_overdue", "deeds.report_overdue", ["responsible", "recipients"],
         "report_overdue", "high", "reminder", "item:{item_id}", "{period}",
         description="A monthly report is overdue: the responsible person and the listed "
                     "recipients."),
    rule("report_overdue.robot", "deeds.report_overdue", ["owner_unit_robots"],
         "report_overdue_group", "high", "reminder", "item:{item_id}", "{period}",
         channels=ROBOTS, description="…and one message to the owner unit's group robots."),
    rule("supervision_issued", "deeds.supervision_issued",
         ["responsible", "recipients", "owner_unit_officers"], "supervision_issued", "high",
         "supervision", "order:{order_id}", "issued",
         description="A supervision order: the responsible person and the owner unit's "
                     "officers."),
    rule("supervision_escalated", "deeds.supervision_escalated",
         ["escalated_union_officers"], "supervision_escalated", "urgent", "supervision",
         "order:{order_id}", "level-{escalation_level}",
         description="Escalation: the officers (chair and vice-chairs) of the union it is "
                     "escalated to (the union above)."),
    rule("supervision_escalated.responsible", "deeds.supervision_escalated",
         ["responsible"], "supervision_escalated", "high", "supervision", "order:{order_id}",
         "level-{escalation_level}", channels=["inbox"],
         description="…and the responsible person sees it in the inbox."),
    rule("supervision_escalated.robot", "deeds.supervision_escalated",
         ["escalated_unit_robots"], "supervision_escalated_group", "urgent", "supervision",
         "order:{order_id}", "level-{escalation_level}", channels=ROBOTS,
         description="…and the group robots of the unit it is escalated to."),
    rule("supervision_closed", "deeds.supervision_closed", ["responsible"],
         "supervision_closed", "low", "supervision", "order:{order_id}", "closed",
         channels=["inbox"]),
    # ---- deeds: items and the ideas behind them
    rule("item_created", "deeds.item_created", ["responsible"], "item_created", "normal",
         "task", "item:{item_id}", "created"),
    rule("item_created.submitter", "deeds.item_created", ["idea_submitter"],
         "item_created_submitter", "normal", "idea", "item:{item_id}", "created",
         description="Those who proposed an idea are told when it becomes a deed item."),
    rule("idea_reviewed", "deeds.idea_reviewed", ["idea_submitter"], "idea_reviewed",
         "normal", "idea", "idea:{idea_id}", "{status}"),
    rule("item_progressed.submitter", "deeds.item_progressed", ["idea_submitter"],
         "item_progressed", "low", "idea", "item:{item_id}", "{progress}",
         channels=["inbox"]),
    rule("item_completed.submitter", "deeds.item_completed", ["idea_submitter"],
         "item_completed", "normal", "idea", "item:{item_id}", "{completed_on}",
         description="…each completion (one found non-conforming is completed again)."),
    rule("item_non_conforming", "deeds.item_non_conforming",
         ["responsible", "owner_unit_officers"], "item_non_conforming", "high", "task",
         "item:{item_id}", "{new_deadline}"),
    rule("item_non_conforming.submitter", "deeds.item_non_conforming", ["idea_submitter"],
         "item_non_conforming", "low", "idea", "item:{item_id}", "{new_deadline}",
         channels=["inbox"]),
    # ---- deeds: …and of every other move of the deed made from their idea
    submitter_rule("report_submitted", "report_submitted_submitter", "low", "item:{item_id}",
                   "{period}", "Each monthly report, with its progress."),
    submitter_rule("supervision_issued", "supervision_issued_submitter", "normal",
                   "order:{order_id}", "issued"),
    submitter_rule("supervision_escalated", "supervision_escalated_submitter", "normal",
                   "order:{order_id}", "level-{escalation_level}"),
    submitter_rule("supervision_closed", "supervision_closed", "low", "order:{order_id}",
                   "closed"),
    submitter_rule("notice_published", "notice_published_submitter", "normal",
                   "notice:{notice_id}", "published",
                   "Their deed is on the quarterly public notice."),
    submitter_rule("notice_closed", "notice_closed_submitter", "normal", "notice:{notice_id}",
                   "closed", "Their deed passed its public notice."),
    submitter_rule("objection_reviewed", "objection_reviewed_submitter", "normal",
                   "objection:{objection_id}", "{status}",
                   "An objection to their deed was upheld or rejected."),
    submitter_rule("evaluation_published", "evaluation_published_submitter", "low",
                   "evaluation:{evaluation_id}", "published",
                   "The quarter's evaluation that took their deed in."),
    rule("objection_raised", "deeds.objection_raised", ["responsible", "owner_unit_officers"],
         "objection_raised", "normal", "task", "objection:{objection_id}", "raised"),
    rule("objection_reviewed", "deeds.objection_reviewed", ["member"], "objection_reviewed",
         "normal", "idea", "objection:{objection_id}", "{status}"),
    # ---- deeds: commitments (承诺) are public
    rule("commitment_made", "deeds.commitment_made", ["unit_members"], "commitment_made",
         "low", "announcement", "commitment:{commitment_id}", "made", channels=["inbox"],
         description="Every member of the owner unit (and the units below it) sees a "
                     "commitment made by the unit or one of its cadres."),
    rule("commitment_reported", "deeds.commitment_reported", ["unit_members"],
         "commitment_reported", "low", "announcement", "commitment:{commitment_id}",
         "{achieved}", channels=["inbox"],
         description="…and each progress report on it: achieved against the target."),
    # ---- organization
    rule("term_expiring", "organization.term_expiring", ["recipients"], "term_expiring",
         "normal", "reminder", "term:{term_id}", "{days_left}"),
    rule("term_expiring.parent", "organization.term_expiring", ["parent_union_officers"],
         "term_expiring_parent", "normal", "reminder", "term:{term_id}", "{days_left}",
         description="The officers of the union above hear that a term below falls due."),
    rule("term_expired", "organization.term_expired", ["recipients", "parent_union_officers"],
         "term_expired", "high", "reminder", "term:{term_id}", "expired"),
    rule("action_item_created", "organization.action_item_created", ["owner_unit_officers"],
         "action_item_created", "normal", "task", "action_item:{action_item_id}", "created"),
    rule("follow_up_overdue", "organization.follow_up_overdue", ["owner_unit_officers"],
         "follow_up_overdue", "high", "task", "action_item:{action_item_id}", "overdue",
         description="A field visit's follow-up action is past its due date: the officers "
                     "of the union serving its owner unit."),
    rule("follow_up_overdue.parent", "organization.follow_up_overdue",
         ["parent_union_officers"], "follow_up_overdue_parent", "normal", "task",
         "action_item:{action_item_id}", "overdue",
         description="…flagged to the officers of the union above it."),
    rule("regulation_issued", "organization.regulation_issued", ["unit_members"],
         "regulation_issued", "low", "announcement", "regulation:{regulation_id}",
         "{version}", channels=["inbox"],
         description="Every member under the issuing unit sees a new regulation in the inbox."),
    # ---- activities
    rule("activity_upcoming", "activities.activity_upcoming", ["recipients"],
         "activity_upcoming", "normal", "activity", "activity:{activity_id}", "upcoming"),
    rule("activity_cancelled", "activities.activity_cancelled", ["recipients"],
         "activity_cancelled", "high", "activity", "activity:{activity_id}", "cancelled"),
    rule("signup_promoted", "activities.signup_promoted", ["member"], "signup_promoted",
         "normal", "activity", "activity:{activity_id}", "promoted",
         description="A place came free: the member next on the waiting list got it."),
    rule("checkup_missing", "activities.checkup_missing", ["recipients"],
         "checkup_missing", "normal", "activity", "checkup", "{year}",
         description="Each member missing the year's check-up, once a year."),
    # ---- our own: a webhook subscription's owner hears that it was disabled
    rule("webhook_disabled", "notifications.webhook_disabled", ["owner"],
         "webhook_disabled", "high", "system", "subscription:{subscription_id}",
         "{disabled_at}"),
]
