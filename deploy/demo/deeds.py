"""Demo data of the "552" programme (五个聚焦、五个一批、两大载体) from the source article: the
party committee's list of 34 deed items and the grassroots lists of 74, spread over the five
focuses, the five batches and the demo union's units, a few golden ideas (one accepted into
the wind-power company's grassroots list: a 75th grassroots item), commitments of units and
of cadres, and the year replayed up to the article's date with a scripted pattern of
monthly reports. Every track of the ledger is shown: on track, under supervision (missed
reports, a missed planned completion, a missed rework deadline), completed awaiting its
notice, publicly noticed, and non-conforming (不符合项目反馈: one by an upheld objection of a
member, one found on review), each with its feedback.

``simulate`` is also what the year-replay test drives, so the demo and the proof agree."""

from datetime import date, timedelta

from gonghui.calendar import WorkingCalendar
from services.deeds import rules

YEAR = 2021
ARTICLE_DATE = date(2021, 8, 30)
PARTY_ITEMS, GRASSROOTS_ITEMS = 34, 74

TITLES = {
    "strengthening": ["光伏电站智能运维平台建设", "风机故障预警系统上线", "储能电站安全标准化提升",
                      "降本增效专项行动", "新能源项目并网提速", "生产数据中心建设",
                      "设备检修外委转自主", "安全生产隐患排查治理"],
    "talent": ["青年技术骨干培养计划", "职工技能等级认定", "劳模创新工作室建设", "师带徒结对帮扶",
               "职工学历提升补助", "岗位练兵技术比武", "新入职员工导师制"],
    "warm_heart": ["爱心母婴室建设", "倒班宿舍热水系统改造", "职工食堂提质", "“两堂一舍”升级",
                   "一线班组休息室改造", "夏季送清凉", "职工通勤班车优化"],
    "care": ["困难职工帮扶", "女职工“三八”系列活动", "青年职工联谊活动", "职工心理健康服务",
             "大病医疗互助", "职工子女金秋助学", "退休职工走访慰问"],
    "foundation": ["职工书屋提升", "工会阵地标准化建设", "职工健身场所建设", "流动书架进班组",
                   "工会制度汇编", "职工之家建设", "工会经费规范管理"],
}
FOCUS = list(rules.FOCUS_AREAS)


def _pick(index, options):
    return options[index % len(options)]


def plan_items(units, members_by_unit):
    """[(level, list_owner_code, item dict)] for the 34 + 74 items."""
    grassroots = [u for u in units if u["kind"] in ("plant", "subsidiary", "office")]
    teams = [u for u in units if u["kind"] == "team"]
    planned = []
    for n in range(PARTY_ITEMS):
        batch = rules.BATCHES[n % 5]
        owner = grassroots[n % len(grassroots)]
        planned.append(("party_committee", "XNY", {
            "title": f"{_pick(n // 5, TITLES[batch])}（党委）",
            "focus_area": FOCUS[(n * 2) % 5], "batch": batch, "owner": owner,
            "planned_completion": date(YEAR, 4 + n % 9, 28)}))
    for n in range(GRASSROOTS_ITEMS):
        batch = rules.BATCHES[(n + 2) % 5]
        unit = grassroots[n % len(grassroots)]
        owned_by_team = [t for t in teams if t["parent_id"] == unit["id"]]
        owner = owned_by_team[n % len(owned_by_team)] if owned_by_team and n % 4 == 3 else unit
        planned.append(("grassroots", unit["code"], {
            "title": f"{unit['name']}{_pick(n // 5, TITLES[batch])}",
            "focus_area": FOCUS[n % 5], "batch": batch, "owner": owner,
            "planned_completion": date(YEAR, 3 + n % 10, 26)}))
    for _, _, item in planned:
        people = members_by_unit.get(item["owner"]["id"]) or members_by_unit[
            item["owner"]["parent_id"]]
        item["responsible_member_id"] = people[len(item["title"]) % len(people)]
    return planned


def pattern(index):
    """How an item's owner reports, by its position: mostly on time, some late (after the
    due day but before the supervision deadline), one in ten never (supervision escalates)."""
    slot = index % 10
    if slot <= 5:
        return "on_time"
    if slot <= 7:
        return "late"
    return "never" if slot == 8 else "on_time_completes_early"


def load_items(proxy):
    """Create the lists and items (idempotent); returns [(item, pattern)] in creation order."""
    org, deeds = proxy.organization, proxy.deeds
    units = org.list_units(limit=5000)
    members_by_unit = {}
    for member in org.list_members(limit=5000):
        members_by_unit.setdefault(member["unit_id"], []).append(member["id"])
    by_code = {u["code"]: u for u in units}
    existing = deeds.ledger(year=YEAR, limit=5000)
    if existing:
        return [(item, pattern(n)) for n, item in enumerate(existing)]
    lists = {}
    created = []
    for n, (level, owner_code, item) in enumerate(plan_items(units, members_by_unit)):
        key = (level, owner_code)
        if key not in lists:
            title = ("公司党委“我为群众办实事”项目清单" if level == "party_committee"
                     else f"{by_code[owner_code]['name']}“我为群众办实事”项目清单")
            lists[key] = deeds.create_list(level=level, year=YEAR,
                                           unit_id=by_code[owner_code]["id"], title=title)["id"]
        created.append((deeds.create_item(
            list_id=lists[key], title=item["title"], description="经“金点子”征集、反复论证、"
            "专题研究形成的实事项目", focus_area=item["focus_area"], batch=item["batch"],
            owner_unit_id=item["owner"]["id"],
            responsible_member_id=item["responsible_member_id"],
            planned_completion=item["planned_completion"].isoformat(),
            created_on=date(YEAR, 1, 20).isoformat()), pattern(n)))
    return created


def schedule(items, start, end, settings=rules.Settings(), calendar=None):
    """{day: [(action, item)]}: the scripted reports and completions between two dates."""
    calendar = calendar or WorkingCalendar()
    plan = {}
    for item, how in items:
        completes = date.fromisoformat(item["planned_completion"])
        if how == "on_time_completes_early":
            completes -= timedelta(days=40)
        if how != "never" and start <= completes <= end:
            plan.setdefault(completes, []).append(("complete", item))
        month = date(start.year, start.month, 1)
        while month <= end:
            period = rules.period_of(month)
            due_on = rules.due_date(period, settings.report_due_day, calendar)
            created = date.fromisoformat(item["created_on"]) if "created_on" in item else None
            owes = created is None or rules.owes_period(created, period)
            day = due_on if how != "late" else due_on + timedelta(days=3)
            if owes and how != "never" and day < completes and start <= day <= end:
                plan.setdefault(day, []).append(("report", item, period))
            month = (month + timedelta(days=32)).replace(day=1)
    return plan


def simulate(proxy, items, start, end):
    """Replay every day from ``start`` to ``end``: the day's scripted reports and
    completions, then the day's tick. Returns the tick totals."""
    plan = schedule(items, start, end)
    totals = {}
    day = start
    while day <= end:
        for action in plan.get(day, []):
            item = action[1]
            if action[0] == "report":
                progress = min(95, 10 * int(action[2][5:7]))
                proxy.deeds.submit_report(item_id=item["id"], progress=progress,
                                          text=f"{action[2]} 月度进展：按计划推进",
                                          period=action[2], submitted_on=day.isoformat())
            else:
                proxy.deeds.complete_item(item_id=item["id"], completed_on=day.isoformat(),
                                          summary="已按计划办结，职工反映良好")
        for key, value in proxy.deeds.tick(as_of=day.isoformat()).items():
            if isinstance(value, int):
                totals[key] = totals.get(key, 0) + value
        day += timedelta(days=1)
    return totals


def load_demo(proxy):
    """The article's programme as of the article's date (idempotent)."""
    deeds = proxy.deeds
    if deeds.ledger(year=YEAR, limit=1):
        return {"created": False}
    items = load_items(proxy)
    org_units = {u["code"]: u["id"] for u in proxy.organization.list_units(limit=5000)}
    company = org_units["XNY"]
    idea = deeds.submit_idea(title="倒班职工夜班餐补贴", description="一线倒班职工夜班无热餐",
                             focus_area="conditions", submitter_unit_id=org_units["XNY-JJFD"],
                             submitted_on="2021-01-08")
    deeds.review_idea(idea_id=idea["id"], step="argued")
    deeds.review_idea(idea_id=idea["id"], step="studied")
    jjfd = org_units["XNY-JJFD"]
    jjfd_list = next(item["list_id"] for item, _ in items
                     if item["level"] == "grassroots" and item["owner_unit_id"] == jjfd)
    deeds.accept_idea(idea_id=idea["id"], list_id=jjfd_list,
                      owner_unit_id=org_units["XNY-JJFD"], batch="warm_heart",
                      planned_completion="2021-09-30", accepted_on="2021-01-20")
    declined = deeds.submit_idea(title="建设职工高尔夫练习场", description="提升职工文体生活",
                                 focus_area="conditions", submitter_unit_id=company,
                                 submitted_on="2021-01-10")
    deeds.review_idea(idea_id=declined["id"], step="declined",
                      reason="投入大、受益面窄，建议以健步走、羽毛球等普惠项目替代")
    for code, title, metric, target in (
            ("XNY-SMGF", "一线班组休息室全部达标", "达标班组数", 6),
            ("XNY-JJFD", "风机可利用率提升", "可利用率%", 98),
            ("XNY-SLGF", "职工书屋借阅量翻番", "借阅册次", 1200)):
        commitment = deeds.make_commitment(owner_kind="unit", owner_unit_id=org_units[code],
                                           title=title, metric=metric, target=target,
                                           starts_on="2021-01-01", ends_on="2021-12-31")
        deeds.report_commitment(commitment_id=commitment["id"], value=target * 0.6,
                                note="上半年完成情况", reported_on="2021-07-05")
    # cadres' commitments (党员干部承诺): the chairs of two grassroots unions
    for code, title, metric, target, achieved in (
            ("XNY-SMGF", "每月深入一线班组走访不少于4次", "走访次数", 48, 34),
            ("XNY-JJFD", "年内解决职工急难愁盼问题10件", "解决件数", 10, 4)):
        chair = proxy.organization.recipients(unit_id=org_units[code], role="chair")[0]
        commitment = deeds.make_commitment(
            owner_kind="member", owner_unit_id=org_units[code],
            owner_member_id=chair["member_id"], title=title, metric=metric, target=target,
            starts_on="2021-01-01", ends_on="2021-12-31")
        deeds.report_commitment(commitment_id=commitment["id"], value=achieved,
                                note="截至8月完成情况", reported_on="2021-08-20")
    totals = simulate(proxy, items, date(YEAR, 1, 20), date(YEAR, 7, 2))
    feedback = _feedback_on_the_second_quarter(proxy, org_units)
    for part in (simulate(proxy, items, date(YEAR, 7, 3), date(YEAR, 7, 5)),
                 feedback(), simulate(proxy, items, date(YEAR, 7, 6), ARTICLE_DATE)):
        for key, value in part.items():
            totals[key] = totals.get(key, 0) + value
    return {"created": True, "items": len(items), "ticks": totals}


def _feedback_on_the_second_quarter(proxy, org_units):
    """While the second quarter's notice is open (from 1 July): a member objects to one
    item (raised on 2 July), which the union upholds on 5 July with a rework deadline after
    the article's date; the same day a review finds another item non-conforming with a
    deadline of 20 August, which passes unmet and is supervised. Returns the step of 5 July."""
    deeds = proxy.deeds
    notice = next(n for n in deeds.list_notices() if (n["year"], n["quarter"]) == (YEAR, 2))
    objected, reviewed = notice["item_ids"][0], notice["item_ids"][1]
    worker = proxy.organization.list_members(unit_id=org_units["XNY-SMGF"], limit=50)[-1]
    objection = deeds.raise_objection(
        notice_id=notice["id"], item_id=objected, member_id=worker["id"],
        reason="公示称已办结，但夜班倒班职工仍未享受到，与公示内容不符", raised_on="2021-07-02")

    def fifth_of_july():
        deeds.review_objection(objection_id=objection["id"], upheld=True,
                               note="经核实异议属实：覆盖面不足，责成补齐夜班职工",
                               new_deadline="2021-09-30", reviewed_on="2021-07-05")
        deeds.mark_non_conforming(item_id=reviewed,
                                  feedback="验收发现部分点位未按标准建设，需整改后重新验收",
                                  new_deadline="2021-08-20", marked_on="2021-07-05")
        return {}
    return fifth_of_july
