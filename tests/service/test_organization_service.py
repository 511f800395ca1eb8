"""The organization service with its database, over the real broker."""

from datetime import date

import pytest
from nameko.exceptions import MethodNotFound
from sqlalchemy import create_engine, func, select

from deploy.demo.organization import demo_plan, load_demo
from gonghui.errors import Conflict, Forbidden, NotFound
from gonghui.tables import audit_log, outbox
from services.organization.service import OrganizationService


@pytest.fixture
def org(start_service, rpc):
    start_service(OrganizationService)
    with rpc() as proxy:
        yield proxy.organization


@pytest.fixture
def demo(start_service, rpc):
    start_service(OrganizationService)
    with rpc() as proxy:
        load_demo(proxy)
        units = {u["code"]: u for u in proxy.organization.list_units(limit=5000)}
        yield proxy.organization, units


def table_count(url, table):
    engine = create_engine(url)
    with engine.connect() as conn:
        value = conn.scalar(select(func.count()).select_from(table))
    engine.dispose()
    return value


def test_tree_create_rename_move_close(org):
    top = org.create_unit(code="A", name="公司", kind="company", domain="新能源")
    plant = org.create_unit(code="B", name="一厂", kind="plant", parent_id=top["id"])
    team = org.create_unit(code="C", name="一班", kind="team", parent_id=plant["id"])
    other = org.create_unit(code="D", name="二厂", kind="plant", parent_id=top["id"])
    assert org.rename_unit(unit_id=plant["id"], name="第一电厂")["name"] == "第一电厂"
    assert [u["code"] for u in org.subtree(unit_id=top["id"])] == ["A", "B", "D", "C"]
    assert [u["code"] for u in org.ancestors(unit_id=team["id"])] == ["B", "A"]
    with pytest.raises(Conflict):
        org.move_unit(unit_id=plant["id"], parent_id=team["id"])  # a cycle
    with pytest.raises(Conflict):
        org.move_unit(unit_id=plant["id"], parent_id=plant["id"])
    org.move_unit(unit_id=team["id"], parent_id=other["id"])
    assert [u["code"] for u in org.ancestors(unit_id=team["id"])] == ["D", "A"]
    with pytest.raises(Conflict):
        org.close_unit(unit_id=other["id"])  # still has a team below
    org.close_unit(unit_id=plant["id"], closed_on="2026-01-31")
    assert org.get_unit(unit_id=plant["id"])["closed_on"] == "2026-01-31"
    with pytest.raises(Conflict):
        org.rename_unit(unit_id=plant["id"], name="x")
    with pytest.raises(Conflict):
        org.create_unit(code="Z", name="另一公司", kind="company")  # one top only
    with pytest.raises(Conflict):
        org.create_unit(code="A", name="重复", kind="plant", parent_id=top["id"])


def test_list_units_gives_each_units_depth_as_subtree_does(org):
    top = org.create_unit(code="A", name="公司", kind="company")
    plant = org.create_unit(code="B", name="一厂", kind="plant", parent_id=top["id"])
    org.create_unit(code="C", name="一班", kind="team", parent_id=plant["id"])
    other = org.create_unit(code="D", name="二厂", kind="plant", parent_id=top["id"])
    expected = {"A": 0, "B": 1, "C": 2, "D": 1}
    assert {u["code"]: u["depth"] for u in org.list_units()} == expected
    assert {u["code"]: u["depth"] for u in org.subtree(unit_id=top["id"])} == expected
    # filtered and paged, each unit keeps its depth in the whole tree
    assert [(u["code"], u["depth"]) for u in org.list_units(kind="team")] == [("C", 2)]
    assert [(u["code"], u["depth"]) for u in org.list_units(limit=1, offset=2)] == [("C", 2)]
    org.move_unit(unit_id=plant["id"], parent_id=other["id"])
    assert {u["code"]: u["depth"] for u in org.list_units()} == {"A": 0, "B": 2, "C": 3,
                                                                 "D": 1}


def test_union_levels_follow_the_tree(org):
    top = org.create_unit(code="A", name="公司", kind="company")
    plant = org.create_unit(code="B", name="一厂", kind="plant", parent_id=top["id"])
    team = org.create_unit(code="C", name="一班", kind="team", parent_id=plant["id"])
    with pytest.raises(Conflict):
        org.establish_union(unit_id=plant["id"], level="grassroots_union", name="x")
    org.establish_union(unit_id=top["id"], level="company_union", name="公司工会")
    with pytest.raises(Conflict):
        org.establish_union(unit_id=team["id"], level="union_group", name="x")
    org.establish_union(unit_id=plant["id"], level="grassroots_union", name="一厂工会")
    group = org.establish_union(unit_id=team["id"], level="union_group", name="一班小组")
    assert group["parent_union_id"] == org.get_union(unit_id=plant["id"])["id"]
    with pytest.raises(Conflict):
        org.close_union(unit_id=plant["id"])  # its group is still open


def test_members_roles_and_escalation(demo):
    org, units = demo
    plant = units["XNY-SMGF"]
    chairs = org.recipients(unit_id=plant["id"], role="chair")
    assert len(chairs) == 1 and chairs[0]["unit_id"] == plant["id"]
    # A team with a union group but no chair of its own: its group has no officers.
    team = units["XNY-SMGF-1"]
    assert org.recipients(unit_id=team["id"], role="chair") == []
    company_chair = org.recipients(unit_id=units["XNY"]["id"], role="chair")
    assert len(company_chair) == 1 and company_chair != chairs
    # A unit without a union is served by the company union.
    assert org.recipients(unit_id=units["XNY-XMB"]["id"], role="chair") == company_chair
    member = org.list_members(unit_id=plant["id"], subtree=False)[5]
    with pytest.raises(Conflict):
        org.assign_role(member_id=member["id"], unit_id=plant["id"], role="chair")
    role = org.assign_role(member_id=member["id"], unit_id=plant["id"], role="cadre")
    assert role["role"] == "cadre"
    org.member_leaves(member_id=member["id"], left_on="2026-11-01")
    with pytest.raises(Conflict):
        org.update_member(member_id=member["id"], name="x")
    assert org.get_member(member_id=member["id"])["left_on"] == "2026-11-01"
    with pytest.raises(Conflict):
        org.end_role(assignment_id=role["id"])  # ended when the member left


def test_member_contact_changes_and_duplicate_employee_numbers(demo):
    org, units = demo
    member = org.list_members(unit_id=units["XNY-QN"]["id"])[0]
    updated = org.update_member(member_id=member["id"], mobile="13700000000",
                                unit_id=units["XNY-SYCN"]["id"])
    assert updated["mobile"] == "13700000000" and updated["unit_id"] == units["XNY-SYCN"]["id"]
    with pytest.raises(Conflict):
        org.add_member(employee_no=member["employee_no"], name="重名", gender="male",
                       unit_id=units["XNY"]["id"])


def test_election_closes_term_opens_next_and_replaces_committee(demo):
    org, units = demo
    unit_id = units["XNY-SLGF"]["id"]
    before = org.current_term(unit_id=unit_id)
    people = [m["id"] for m in org.list_members(unit_id=unit_id, subtree=False)]
    result = org.record_election(unit_id=unit_id, held_on="2026-11-20",
                                 term_starts_on="2026-11-20", term_ends_on="2031-11-19",
                                 committee=[{"member_id": people[6], "role": "chair"},
                                            {"member_id": people[7], "role": "vice_chair"}])
    assert result["closed_term_id"] == before["id"]
    assert result["new_term"]["number"] == before["number"] + 1
    assert org.current_term(unit_id=unit_id)["id"] == result["new_term"]["id"]
    chairs = org.recipients(unit_id=unit_id, role="chair", as_of="2026-11-21")
    assert [c["member_id"] for c in chairs] == [people[6]]
    committee = org.recipients(unit_id=unit_id, role="committee_member", as_of="2026-11-21")
    assert committee == []  # the old committee members were replaced
    with pytest.raises(Conflict):
        org.record_election(unit_id=unit_id, held_on="2026-12-01",
                            term_starts_on="2026-12-01", term_ends_on="2031-11-30",
                            committee=[{"member_id": people[6], "role": "vice_chair"}])


def test_coverage_report(demo):
    org, units = demo
    plan_units, plan_members = demo_plan()
    report = org.coverage_report(as_of="2021-09-01")
    open_units = [u for u in plan_units if u["established_on"] <= date(2021, 9, 1)]
    assert report["units"] == len(open_units)
    assert report["units_with_union"] == len([u for u in open_units if u["union"]])
    assert report["members"] == len([m for m in plan_members
                                     if m["joined_on"] <= date(2021, 9, 1)])
    by_domain = {d["domain"]: d for d in report["by_domain"]}
    assert by_domain["项目建设"]["units_with_union"] == 0
    # Five years later, terms that were not renewed are no longer valid.
    later = org.coverage_report(as_of="2027-06-01")
    assert later["unions_with_valid_term"] < report["unions_with_valid_term"]
    sub = org.coverage_report(as_of="2021-09-01", unit_id=units["XNY-SMGF"]["id"])
    assert sub["units"] == 3


def test_training_visits_meetings_and_action_items(demo):
    org, units = demo
    assert len(org.list_trainings(year=2021)) == 3
    assert {t["kind"] for t in org.list_trainings()} == {
        "external", "internal_online", "internal_offline"}
    visits = org.list_field_visits(unit_id=units["XNY-JJFD"]["id"])
    action = visits[0]["actions"][0]
    overdue = org.list_action_items(overdue_as_of="2021-08-01")
    assert action["id"] in [a["id"] for a in overdue]
    closed = org.close_action_item(action_item_id=action["id"], closing_note="已更换",
                                   closed_on="2021-07-20")
    assert closed["closed_on"] == "2021-07-20"
    with pytest.raises(Conflict):
        org.close_action_item(action_item_id=action["id"], closing_note="again")
    meetings = org.list_meetings(kind="workers_congress")
    assert meetings[0]["tasks"][0]["description"].startswith("完善")


def test_regulation_lifecycle_keeps_every_version(demo):
    org, units = demo
    reg = org.draft_regulation(title="职工书屋管理办法", category="management_rule",
                               issuing_unit_id=units["XNY"]["id"], body="第一条……")
    with pytest.raises(Conflict):
        org.revise_regulation(regulation_id=reg["id"], body="x", effective_on="2026-01-01",
                              change_summary="too early: still a draft")
    org.issue_regulation(regulation_id=reg["id"], effective_on="2026-01-01")
    org.revise_regulation(regulation_id=reg["id"], body="第一条（修订）……",
                          effective_on="2026-06-01", change_summary="修订借阅规则")
    with pytest.raises(Conflict):
        org.revise_regulation(regulation_id=reg["id"], body="y", effective_on="2026-05-01",
                              change_summary="back in time")
    org.repeal_regulation(regulation_id=reg["id"], reason="并入新制度", repealed_on="2026-11-01")
    history = org.regulation_history(regulation_id=reg["id"])
    assert history["status"] == "repealed"
    assert [(v["number"], v["effective_on"]) for v in history["versions"]] == [
        (1, "2026-01-01"), (2, "2026-06-01")]
    assert [r["title"] for r in org.list_regulations(category="work_points")] == [
        "2021年工会工作要点"]
    assert {r["status"] for r in org.list_regulations()} == {"issued", "revised", "repealed"}


def test_every_change_is_audited_and_emitted(demo, databases, subscribe):
    url = databases["organization"]
    assert table_count(url, audit_log) == table_count(url, outbox) > 100


def test_writes_need_an_actor_and_reads_do_not(start_service, rpc):
    start_service(OrganizationService)
    with rpc(actor=None) as proxy:
        with pytest.raises(Forbidden):
            proxy.organization.create_unit(code="A", name="公司", kind="company")
        assert proxy.organization.list_units() == []
        with pytest.raises(NotFound):
            proxy.organization.get_unit(unit_id=1)


def test_health_reports_broker_database_and_outbox(org):
    report = org.health()
    assert report["status"] == "ok"
    assert report["database"]["ok"] and report["broker"]["ok"]
    assert report["outbox"]["backlog"] == 0


def test_unknown_method_is_a_clear_error(org):
    with pytest.raises(MethodNotFound):
        org.no_such_method()


def b64(text_content):
    import base64
    return base64.b64encode(text_content.encode("utf-8-sig")).decode()


def test_import_dry_run_reports_every_bad_row_and_writes_nothing(org, databases):
    url = databases["organization"]
    org.create_unit(code="A", name="公司", kind="company")
    before = table_count(url, outbox)
    csv_text = ("单位编码,单位名称,单位类型,上级单位编码,工会级别,工会名称\n"
                "B,一厂,厂矿,A,,\n"
                "C,一班,castle,B,,\n"       # line 3: bad kind
                "D,二厂,厂矿,NOPE,,\n"       # line 4: unknown parent
                "E,三厂,厂矿,A,工会小组,三厂小组\n")  # line 5: a group with no grassroots above
    for dry_run in (True, False):
        result = org.import_file(kind="units", file_format="csv",
                                 content_base64=b64(csv_text), dry_run=dry_run)
        assert not result["valid"] and result["created"] == 0
        assert [p["line"] for p in result["problems"]] == [3, 4, 5]
    assert table_count(url, outbox) == before


def test_import_then_export_round_trip(org):
    org.create_unit(code="A", name="公司", kind="company")
    units_csv = ("code,name,kind,parent_code,union_level,union_name,domain\n"
                 "A,公司,company,,company_union,公司工会,新能源\n"
                 "B,一厂,plant,A,grassroots_union,一厂工会,光伏发电\n"
                 "C,一班,team,B,union_group,一班小组,光伏发电\n")
    checked = org.import_file(kind="units", file_format="csv", content_base64=b64(units_csv))
    assert checked["valid"] and checked["dry_run"] and checked["created"] == 0
    assert org.list_units() and len(org.list_units()) == 1  # the dry run wrote nothing
    done = org.import_file(kind="units", file_format="csv", content_base64=b64(units_csv),
                           dry_run=False)
    assert (done["created"], done["updated"]) == (2, 1)
    members_csv = ("工号,姓名,性别,单位编码,手机号,入会日期\n"
                   "N1,张三,男,B,13800000001,2021-08-30\n"
                   "N2,李四,女,C,13800000002,2021/9/1\n")
    result = org.import_file(kind="members", file_format="csv",
                             content_base64=b64(members_csv), dry_run=False)
    assert result["created"] == 2
    exported = org.export_file(kind="members", file_format="xlsx")
    assert exported["rows"] == 2
    again = org.import_file(kind="members", file_format="xlsx",
                            content_base64=exported["content_base64"], dry_run=False)
    assert again["valid"] and again["updated"] == 2 and again["created"] == 0
    units = org.export_file(kind="units", file_format="csv")
    assert units["rows"] == 3


def test_emitted_events_match_the_published_contract(start_service, rpc, subscribe):
    """Every envelope the service really emits validates against docs/asyncapi.yaml."""
    from deploy.docs import envelope_errors

    sub = subscribe("organization.events")
    start_service(OrganizationService)
    with rpc() as proxy:
        load_demo(proxy)
        proxy.organization.tick(as_of="2026-06-01")
    seen = sub.collect(150)
    types = {m["body"]["type"] for m in seen}
    assert len(types) >= 15
    for message in seen:
        assert envelope_errors(message["body"]) == [], message["body"]["type"]
        assert message["routing_key"] == message["body"]["type"].split(".", 1)[1]
        assert message["properties"]["message_id"] == message["body"]["id"]


def test_directory_snapshot_pages_the_tree_for_read_model_resyncs(demo):
    org, units = demo

    def whole(part, limit):
        rows, after, pages = [], 0, 0
        while after is not None:
            page = org.directory_snapshot(part=part, after=after, limit=limit)
            assert page["part"] == part and page["taken_at"]
            assert len(page["rows"]) <= limit
            rows += page["rows"]
            after, pages = page["next_after"], pages + 1
        return rows, pages

    unit_rows, pages = whole("units", 5)
    assert [u["unit_id"] for u in unit_rows] == sorted(u["id"] for u in units.values())
    assert pages == len(units) // 5 + 1
    assert {"unit_name", "code", "kind", "parent_id", "established_on", "closed_on"} <= set(
        unit_rows[0])
    members, _ = whole("members", 7)
    assert len(members) == len(org.list_members(limit=5000))
    assert len({m["member_id"] for m in members}) == len(members)
    roles, _ = whole("roles", 3)
    chairs = [r for r in roles if r["role"] == "chair" and r["ends_on"] is None]
    assert len(chairs) == 8  # the company union and the seven grassroots unions
    status = org.directory_status()
    assert status["units"] == len(units) and status["members"] == len(members)
    assert status["roles"] == len([r for r in roles if r["ends_on"] is None])
