"""A small union tree of fixed 2021 dates, built through organization's RPC, for the tests
that need people in roles and their inboxes (tests/together/test_org_cycle.py,
tests/service/test_kit_audit.py): the company union above two grassroots unions, one of
them with a union group below it. People whose roles start in 2021 and never end hold them
on any day the tests run."""

from tests.support.notifications import wait_for

# code: (name, kind, parent code, union level, union name, term starts, term ends)
UNITS = {
    "XNY": ("新型能源公司", "company", None, "company_union", "新型能源公司工会",
            "2019-03-01", "2024-02-29"),
    "SMGF": ("神木光伏电站", "plant", "XNY", "grassroots_union", "神木光伏电站工会",
             "2016-07-01", "2021-07-31"),
    "SMGF-YW": ("运维班", "team", "SMGF", "union_group", "神木光伏电站运维班工会小组",
                "2018-06-01", "2021-05-31"),
    "JJFD": ("锦界风电场", "plant", "XNY", "grassroots_union", "锦界风电场工会",
             "2017-01-01", "2021-12-31"),
}
# key: (name, unit code, role or None)
PEOPLE = {
    "wang": ("王建华", "XNY", "chair"), "li": ("李海燕", "XNY", "vice_chair"),
    "chen": ("陈志强", "SMGF", "chair"), "zhao": ("赵丽", "SMGF", None),
    "sun": ("孙军", "SMGF-YW", "chair"), "qian": ("钱明", "SMGF-YW", None),
    "zhou": ("周涛", "JJFD", "chair"), "wu": ("吴静", "JJFD", None),
}


def build_tree(org):
    """The units, unions, terms and people above, through organization's RPC; returns
    ``(unit ids by code, member ids by key)``."""
    units, people = {}, {}
    for code, (name, kind, parent, level, union_name, starts, ends) in UNITS.items():
        units[code] = org.create_unit(code=code, name=name, kind=kind,
                                      parent_id=units.get(parent),
                                      established_on="2016-01-01")["id"]
        org.establish_union(unit_id=units[code], level=level, name=union_name,
                            established_on="2016-01-01")
        org.start_term(unit_id=units[code], starts_on=starts, ends_on=ends)
    for number, (key, (name, code, role)) in enumerate(PEOPLE.items(), start=1):
        people[key] = org.add_member(employee_no=f"T{number:04d}", name=name,
                                     gender="male", unit_id=units[code],
                                     email=f"{key}@example.cn",
                                     joined_on="2016-01-01")["id"]
        if role:
            org.assign_role(member_id=people[key], unit_id=units[code], role=role,
                            starts_on="2021-01-01")
    return units, people


def wait_for_notifications_directory(notif):
    wait_for(lambda: notif.directory_status()["members"] == len(PEOPLE)
             and notif.directory_status()["roles"] == sum(1 for *_, r in PEOPLE.values() if r),
             30, "notifications' read model follows organization")


def inbox(notif, member_id, event_type):
    return [i for i in notif.list_inbox(member_id=member_id)
            if i["event_type"] == event_type]
