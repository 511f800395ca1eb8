"""Demo data from the source article: Shaanxi Coal's New Energy company union (陕煤新型能源
公司工会) with its grassroots unions, union groups, members, officers, terms, cadre training,
field visits, meetings and the year's regulations ("2021年工会工作要点", "进一步大力推进惠民
行动的实施意见"). Loaded through the services' RPC, as an office would enter it; loading
twice changes nothing."""

from datetime import date, timedelta

COMPANY = ("XNY", "陕煤新型能源公司", "新型能源公司工会")

# (code, name, domain, union name, union groups (team code, team name))
GRASSROOTS = [
    ("XNY-JG", "公司机关", "管理", "机关工会", [("XNY-JG-1", "综合办公室班组")]),
    ("XNY-SMGF", "神木光伏电站", "光伏发电", "神木光伏电站工会",
     [("XNY-SMGF-1", "运行一班"), ("XNY-SMGF-2", "检修班")]),
    ("XNY-JJFD", "锦界风电场", "风力发电", "锦界风电场工会", [("XNY-JJFD-1", "风机运维班")]),
    ("XNY-SYCN", "三原储能电站", "储能", "三原储能电站工会", []),
    ("XNY-SLGF", "商洛光伏电站", "光伏发电", "商洛光伏电站工会", [("XNY-SLGF-1", "运行班")]),
    ("XNY-QN", "氢能科技公司", "氢能", "氢能科技公司工会", []),
    ("XNY-ZHNY", "综合能源服务公司", "综合能源", "综合能源服务公司工会", []),
]
# A unit with no union yet: what coverage measures.
NO_UNION = [("XNY-XMB", "新项目筹建处", "项目建设")]

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = ["伟", "芳", "娜", "敏", "静", "强", "磊", "洋", "艳", "勇", "军", "杰", "娟", "涛",
         "明", "超", "秀英", "丽", "霞", "平", "刚", "桂英", "建华", "海燕", "志强"]
MEMBERS_PER_UNIT = 12


def _name(i):
    return SURNAMES[i % len(SURNAMES)] + GIVEN[(i * 7) % len(GIVEN)]


def demo_plan():
    """Everything the demo creates, as plain data (also used by tests)."""
    units = [{"code": COMPANY[0], "name": COMPANY[1], "kind": "company", "domain": "新能源",
              "parent": None, "established_on": date(2014, 6, 1),
              "union": ("company_union", COMPANY[2])}]
    for code, name, domain, union_name, groups in GRASSROOTS:
        kind = "office" if code == "XNY-JG" else "subsidiary" if "公司" in name else "plant"
        units.append({"code": code, "name": name, "kind": kind, "domain": domain,
                      "parent": COMPANY[0], "established_on": date(2016, 3, 1),
                      "union": ("grassroots_union", union_name)})
        for team_code, team_name in groups:
            units.append({"code": team_code, "name": team_name, "kind": "team",
                          "domain": domain, "parent": code, "established_on": date(2018, 1, 1),
                          "union": ("union_group", f"{name}{team_name}工会小组")})
    for code, name, domain in NO_UNION:
        units.append({"code": code, "name": name, "kind": "department", "domain": domain,
                      "parent": COMPANY[0], "established_on": date(2021, 3, 1), "union": None})
    members = []
    counter = 0
    for unit in units:
        if unit["kind"] == "team":
            continue
        for _ in range(MEMBERS_PER_UNIT if unit["kind"] != "company" else 6):
            counter += 1
            members.append({
                "employee_no": f"XN{counter:04d}", "name": _name(counter),
                "gender": "female" if counter % 3 == 0 else "male", "unit": unit["code"],
                "email": f"xn{counter:04d}@xny.example.cn",
                "mobile": f"139{counter:08d}", "wecom_id": f"xn{counter:04d}",
                "joined_on": date(2015 + counter % 6, 1 + counter % 12, 1)})
    return units, members


def _terms_for(index):
    """Staggered five-year terms, so some elections fall due in the demo year."""
    starts = date(2017 + index % 5, 3 + index % 9, 1)
    return starts, starts.replace(year=starts.year + 5) - timedelta(days=1)


def load_demo(proxy):
    """Create the demo through the organization RPC; returns what it created or found."""
    org = proxy.organization
    existing = {u["code"]: u for u in org.list_units(limit=5000, include_closed=True)}
    if COMPANY[0] in existing:
        return {"created": False, "units": len(existing)}
    units, members = demo_plan()
    ids = {}
    for unit in units:
        created = org.create_unit(code=unit["code"], name=unit["name"], kind=unit["kind"],
                                  domain=unit["domain"], parent_id=ids.get(unit["parent"]),
                                  established_on=unit["established_on"].isoformat())
        ids[unit["code"]] = created["id"]
        if unit["union"]:
            org.establish_union(unit_id=created["id"], level=unit["union"][0],
                                name=unit["union"][1],
                                established_on=unit["established_on"].isoformat())
    by_unit = {}
    for member in members:
        created = org.add_member(
            employee_no=member["employee_no"], name=member["name"], gender=member["gender"],
            unit_id=ids[member["unit"]], email=member["email"], mobile=member["mobile"],
            wecom_id=member["wecom_id"], joined_on=member["joined_on"].isoformat())
        by_unit.setdefault(member["unit"], []).append(created["id"])
    union_units = [u for u in units if u["union"] and u["kind"] != "team"]
    for index, unit in enumerate(union_units):
        people = by_unit[unit["code"]]
        starts, ends = _terms_for(index)
        org.start_term(unit_id=ids[unit["code"]], starts_on=starts.isoformat(),
                       ends_on=ends.isoformat())
        org.assign_role(member_id=people[0], unit_id=ids[unit["code"]], role="chair",
                        starts_on=starts.isoformat())
        org.assign_role(member_id=people[1], unit_id=ids[unit["code"]], role="vice_chair",
                        starts_on=starts.isoformat())
        for member_id in people[2:5]:
            org.assign_role(member_id=member_id, unit_id=ids[unit["code"]],
                            role="committee_member", starts_on=starts.isoformat())
    # One grassroots union already held its change of term (换届) this year.
    smgf = ids["XNY-SMGF"]
    people = by_unit["XNY-SMGF"]
    org.record_election(unit_id=smgf, held_on="2021-06-18", term_starts_on="2021-06-18",
                        term_ends_on="2026-06-17",
                        committee=[{"member_id": people[2], "role": "chair"},
                                   {"member_id": people[0], "role": "vice_chair"},
                                   {"member_id": people[3], "role": "committee_member"},
                                   {"member_id": people[4], "role": "committee_member"}],
                        notes="第二届会员代表大会选举产生新一届委员会")
    cadres = [by_unit[u["code"]][0] for u in union_units]
    company = ids[COMPANY[0]]
    org.record_training(title="集团公司工会干部业务培训", kind="external",
                        provider="陕煤集团工会", organiser_unit_id=company,
                        starts_on="2021-04-12", ends_on="2021-04-16", hours=32,
                        attendee_ids=cadres[:4])
    org.record_training(title="工会财务与经审线上培训", kind="internal_online",
                        provider=None, organiser_unit_id=company, starts_on="2021-05-20",
                        ends_on="2021-05-20", hours=4, attendee_ids=cadres)
    org.record_training(title="研讨式工会业务实训", kind="internal_offline",
                        provider=None, organiser_unit_id=company, starts_on="2021-07-08",
                        ends_on="2021-07-09", hours=12, attendee_ids=cadres)
    chair = by_unit[COMPANY[0]][0]
    org.record_field_visit(unit_id=ids["XNY-JJFD"], kind="symposium", visited_on="2021-05-11",
                           visitor_ids=[chair], findings="一线运维职工反映倒班宿舍热水不稳定",
                           actions=[{"description": "更换倒班宿舍热水系统",
                                     "owner_unit_id": ids["XNY-JJFD"], "due_on": "2021-07-31"}])
    org.record_field_visit(unit_id=ids["XNY-SYCN"], kind="heart_to_heart",
                           visited_on="2021-06-03", visitor_ids=[chair],
                           findings="新入职青年职工希望增加交友联谊活动", actions=[])
    org.record_meeting(unit_id=company, kind="workers_congress", title="公司二届二次职代会",
                       held_on="2021-02-26", attendee_ids=cadres,
                       tasks=[{"description": "完善各基层单位工会组织，实现领域全覆盖",
                               "owner_unit_id": company, "due_on": "2021-12-31"}])
    org.record_meeting(unit_id=company, kind="half_year_review", title="2021年工会半年工作会",
                       held_on="2021-07-15", attendee_ids=cadres,
                       tasks=[{"description": "推进工间操日常化",
                               "owner_unit_id": ids["XNY-SMGF"], "due_on": "2021-09-30"}])
    points = org.draft_regulation(title="2021年工会工作要点", category="work_points",
                                  issuing_unit_id=company,
                                  body="夯实组织、队伍、制度三位一体工会工作模式……")
    org.issue_regulation(regulation_id=points["id"], effective_on="2021-01-15")
    opinion = org.draft_regulation(title="进一步大力推进惠民行动的实施意见",
                                   category="implementation_opinion", issuing_unit_id=company,
                                   body="围绕职工所需所盼，办好惠民实事……")
    org.issue_regulation(regulation_id=opinion["id"], effective_on="2021-03-01")
    org.revise_regulation(regulation_id=opinion["id"], body="围绕职工所需所盼，办好惠民实事；"
                          "新增母婴室建设要求……", effective_on="2021-08-01",
                          change_summary="增加爱心母婴室建设要求")
    return {"created": True, "units": len(units), "members": len(members)}
