"""Demo data of the activities service, following the source article's figures for 2021
(陕煤新型能源公司工会, published 2021-08-30): the three all-staff campaigns — health
(全民健康), fitness (全民健身), reading (全民阅读) — with measured goals; 17 sports venues,
14 sports events, daily workplace exercise (工间操) in 5 grassroots units, 19 staff libraries
(职工书屋) and reading corners (读书角), 7 mobile bookshelves (流动书架) in frontline teams,
24 reading sessions, 2 mental-health lectures, 5 women workers' health activities, the
charity visits and the flood donation drive, the youth mixer, and a health check-up for every
member.

Loaded through the services' RPC after ``deploy.demo.organization.load_demo``
(organization's units and members, reused by their codes); loading twice changes nothing.
The activities service learns the directory from organization's events:
``wait_for_directory`` waits until its copy has caught up (and resyncs by RPC if it does not
in time).
"""

import time
from datetime import date, timedelta

YEAR = 2021
ARTICLE_DATE = date(2021, 8, 30)
# What the article reports for 2021 up to its date; ``figures`` of the demo reproduce it.
ARTICLE_FIGURES = {
    "sports_venues": 17,
    "sports_events": 14,
    "units_with_daily_exercise": 5,
    "libraries_and_reading_corners": 19,
    "mobile_bookshelves": 7,
    "reading_sessions": 24,
    "mental_health_lectures": 2,
    "womens_health_activities": 5,
    "checkup_coverage": 1.0,
}
GRASSROOTS = ["XNY-JG", "XNY-SMGF", "XNY-JJFD", "XNY-SYCN", "XNY-SLGF", "XNY-QN", "XNY-ZHNY"]
TEAMS = ["XNY-JG-1", "XNY-SMGF-1", "XNY-SMGF-2", "XNY-JJFD-1", "XNY-SLGF-1"]

CAMPAIGNS = [
    ("health", "全民健康", "health", "普及健康知识，推广文明健康生活习惯，职工健康体检全覆盖", [
        {"description": "职工健康体检全覆盖", "metric": "checkup_coverage", "target": 1.0},
        {"description": "开展职工心理健康讲座2次", "metric": "activities_held", "target": 2,
         "activity_kinds": ["lecture"], "topic": "mental_health"},
        {"description": "开展女职工健康活动5次", "metric": "activities_held", "target": 5,
         "activity_kinds": ["womens_health"]},
    ]),
    ("fitness", "全民健身", "fitness", "以工间操、健身舞、球类比赛、健步走为主要内容", [
        {"description": "每个基层单位建成体育活动场所", "metric": "units_with_facility",
         "target": 1.0, "facility_kinds": ["sports_venue"]},
        {"description": "全年组织体育活动不少于12次", "metric": "activities_held",
         "target": 12, "activity_kinds": ["match", "fitness_event"]},
        {"description": "5家基层单位工间操日常化", "metric": "units_with_daily_exercise",
         "target": 5},
    ]),
    ("reading", "全民阅读", "reading", "职工书屋、读书角、流动书架，书香新能", [
        {"description": "每个基层工会建成职工书屋或读书角", "metric": "units_with_facility",
         "target": 1.0, "facility_kinds": ["staff_library", "reading_corner"]},
        {"description": "一线班组流动书架7个", "metric": "facilities_opened", "target": 7,
         "facility_kinds": ["mobile_bookshelf"]},
        {"description": "读书班、读书会20次", "metric": "activities_held", "target": 20,
         "activity_kinds": ["reading_session"]},
        {"description": "机关读书会每周一次", "metric": "recurring_sessions", "target": 4},
    ]),
]

# (unit code, kind, name, location, opened_on)
SPORTS_VENUES = [
    ("XNY", "职工健身房", "公司办公楼一层"), ("XNY", "职工篮球场", "公司院内"),
    ("XNY-JG", "机关乒乓球室", "机关二楼"), ("XNY-JG", "机关羽毛球场", "机关院内"),
    ("XNY-SMGF", "电站篮球场", "神木光伏电站生活区"), ("XNY-SMGF", "电站健身室", "综合楼"),
    ("XNY-SMGF", "电站健步道", "光伏区环线"),
    ("XNY-JJFD", "风电场健身室", "升压站生活区"), ("XNY-JJFD", "风电场羽毛球场", "生活区"),
    ("XNY-SYCN", "储能电站健身室", "综合楼"), ("XNY-SYCN", "储能电站乒乓球室", "综合楼"),
    ("XNY-SLGF", "商洛电站篮球场", "生活区"), ("XNY-SLGF", "商洛电站健身室", "宿舍楼"),
    ("XNY-QN", "氢能公司健身房", "研发楼"), ("XNY-QN", "氢能公司羽毛球场", "厂区"),
    ("XNY-ZHNY", "综合能源健身室", "办公楼"), ("XNY-ZHNY", "综合能源乒乓球室", "办公楼"),
]
LIBRARIES = [(code, "staff_library", f"{name}职工书屋") for code, name in [
    ("XNY", "公司"), ("XNY-JG", "机关"), ("XNY-SMGF", "神木光伏电站"), ("XNY-JJFD", "锦界风电场"),
    ("XNY-SYCN", "三原储能电站"), ("XNY-SLGF", "商洛光伏电站"), ("XNY-QN", "氢能科技公司"),
    ("XNY-ZHNY", "综合能源服务公司")]] + [
    (code, "reading_corner", name) for code, name in [
        ("XNY-JG-1", "综合办公室读书角"), ("XNY-SMGF-1", "运行一班读书角"),
        ("XNY-SMGF-2", "检修班读书角"), ("XNY-JJFD-1", "风机运维班读书角"),
        ("XNY-SLGF-1", "运行班读书角"), ("XNY-JG", "机关党员活动室读书角"),
        ("XNY-SMGF", "集控室读书角"), ("XNY-JJFD", "倒班宿舍读书角"),
        ("XNY-SYCN", "值班室读书角"), ("XNY-SLGF", "职工食堂读书角"),
        ("XNY-QN", "研发中心读书角")]]
BOOKSHELVES = ["XNY-JG-1", "XNY-SMGF-1", "XNY-SMGF-1", "XNY-SMGF-2", "XNY-JJFD-1",
               "XNY-JJFD-1", "XNY-SLGF-1"]

# (campaign code, kind, topic, name, organiser code, date, audience, place)
HEALTH = [
    ("health", "lecture", "health_knowledge", "健康知识普及讲座", "XNY", "2021-03-18", "all_staff",
     "公司报告厅"),
    ("health", "lecture", "mental_health", "职工心理健康讲座：压力与情绪管理", "XNY",
     "2021-04-15", "all_staff", "公司报告厅"),
    ("health", "lecture", "mental_health", "心理健康讲座：倒班职工的情绪调适", "XNY-SMGF",
     "2021-07-08", "subtree", "神木光伏电站会议室"),
    ("health", "womens_health", None, "三八节女职工健康讲座", "XNY", "2021-03-08", "women",
     "公司报告厅"),
    ("health", "womens_health", None, "女职工两癌筛查知识宣讲", "XNY", "2021-05-20", "women",
     "公司会议室"),
    ("health", "womens_health", None, "女职工瑜伽课", "XNY-JG", "2021-06-10", "women",
     "机关活动室"),
    ("health", "womens_health", None, "女职工健康知识竞赛", "XNY", "2021-07-22", "women",
     "公司报告厅"),
    ("health", "womens_health", None, "女职工孕期保健讲座", "XNY-QN", "2021-08-12", "women",
     "氢能公司会议室"),
    ("health", "charity_visit", None, "青草界敬老院慰问老人", "XNY", "2021-05-14", "all_staff",
     "神木市锦界镇青草界敬老院"),
    ("health", "charity_visit", None, "东周儿童村关爱特殊儿童", "XNY-SYCN", "2021-06-01",
     "subtree", "三原县东周儿童村"),
    ("health", "donation_drive", None, "商洛暴雨受灾爱心募捐", "XNY", "2021-08-25", "all_staff",
     "线上募捐"),
]
FITNESS = [
    ("match", "职工篮球赛", "XNY", "2021-04-22", "公司篮球场"),
    ("match", "职工羽毛球赛", "XNY", "2021-05-27", "机关羽毛球场"),
    ("match", "乒乓球友谊赛", "XNY-JG", "2021-06-17", "机关乒乓球室"),
    ("match", "拔河比赛", "XNY-SMGF", "2021-04-29", "电站生活区"),
    ("match", "踢毽子比赛", "XNY-SLGF", "2021-05-13", "商洛电站篮球场"),
    ("match", "风电场羽毛球赛", "XNY-JJFD", "2021-07-15", "风电场羽毛球场"),
    ("fitness_event", "春季健步走", "XNY", "2021-03-25", "公司—红碱淖环线"),
    ("fitness_event", "健身舞展示", "XNY", "2021-04-08", "公司广场"),
    ("fitness_event", "光伏区健步走", "XNY-SMGF", "2021-05-06", "电站健步道"),
    ("fitness_event", "储能电站健身操比赛", "XNY-SYCN", "2021-05-19", "储能电站院内"),
    ("fitness_event", "氢能公司登山活动", "XNY-QN", "2021-06-05", "终南山"),
    ("fitness_event", "综合能源健步走", "XNY-ZHNY", "2021-06-24", "城市绿道"),
    ("fitness_event", "风电场健身锻炼打卡", "XNY-JJFD", "2021-07-01", "风电场健身室"),
    ("fitness_event", "夏季健步走", "XNY-SLGF", "2021-08-05", "商洛江滨步道"),
]
READING_UNITS = ["XNY", "XNY-JG", "XNY-SMGF", "XNY-JJFD", "XNY-SYCN", "XNY-SLGF", "XNY-QN",
                 "XNY-ZHNY"]
READING_TOPICS = ["传统文化读书班", "党史学习读书会", "“云读书”分享会", "学习强国读书交流会",
                  "书香三八读书会"]
DAILY_EXERCISE = ["XNY-SMGF", "XNY-JJFD", "XNY-SYCN", "XNY-SLGF", "XNY-QN"]


def _at(day, hour=15):
    return f"{day}T{hour:02d}:00:00+08:00"


def _until(day, hour=17):
    return f"{day}T{hour:02d}:00:00+08:00"


def directory_counts(proxy):
    """What organization's tree holds, to compare with the activities service's read model
    of it: units, members, and the roles held today (``organization.directory_status``)."""
    status = proxy.organization.directory_status()
    return {key: status[key] for key in ("units", "members", "roles")}


def wait_for_directory(proxy, timeout=20.0, resync=True):
    """Wait until the activities service's copy of the directory matches organization's
    (it learns it from organization's events); resync by RPC when it does not in time.
    Returns the activities service's ``directory_status``."""
    expected = directory_counts(proxy)
    deadline = time.monotonic() + timeout
    while True:
        status = proxy.activities.directory_status()
        if all(status[k] == v for k, v in expected.items()):
            return status
        if time.monotonic() > deadline:
            if not resync:
                raise TimeoutError(f"directory not in sync: {status} != {expected}")
            return proxy.activities.resync_directory()
        time.sleep(0.3)


def _working_days(start, count, skip=()):
    """The first ``count`` weekdays from ``start`` (the demo avoids holidays by hand)."""
    days, day = [], start
    while len(days) < count:
        if day.weekday() < 5 and day not in skip:
            days.append(day)
        day += timedelta(days=1)
    return days


def load_demo(proxy):
    """Create the activities demo through RPC; returns what it created or found."""
    act = proxy.activities
    org = proxy.organization
    if any(c["code"] == "health" for c in act.list_campaigns(year=YEAR)):
        return {"created": False}
    wait_for_directory(proxy)
    units = {u["code"]: u["id"] for u in org.list_units(limit=5000)}
    members = org.list_members(limit=5000)
    by_unit = {}
    for member in members:
        by_unit.setdefault(member["unit_id"], []).append(member)

    def people(code, subtree=True):
        """Members of a unit (and its teams), in employee number order."""
        ids = [units[code]] + ([units[t] for t in TEAMS if t.startswith(code + "-")]
                               if subtree else [])
        if code == "XNY" and subtree:
            return sorted(members, key=lambda m: m["employee_no"])
        return sorted((m for i in ids for m in by_unit.get(i, [])),
                      key=lambda m: m["employee_no"])

    women = [m for m in members if m["gender"] == "female"]
    campaigns = {}
    for code, name, theme, description, goals in CAMPAIGNS:
        created = act.create_campaign(code=code, name=name, theme=theme, year=YEAR,
                                      organiser_unit_id=units["XNY"], description=description,
                                      goals=goals)
        campaigns[code] = created["id"]

    # Facilities, opened in the first months of the year.
    venue_ids = {}
    for index, (code, name, location) in enumerate(SPORTS_VENUES):
        opened = date(YEAR, 1, 11) + timedelta(days=7 * index)
        venue = act.open_facility(unit_id=units[code], kind="sports_venue", name=name,
                                  location=location, opened_on=opened.isoformat())
        venue_ids[name] = venue["id"]
    old = act.open_facility(unit_id=units["XNY-SYCN"], kind="reading_corner",
                            name="老职工阅览室", location="老办公楼", opened_on="2019-05-06")
    act.close_facility(facility_id=old["id"], closed_on="2021-03-31",
                       reason="并入新建的三原储能电站职工书屋")
    for index, (code, kind, name) in enumerate(LIBRARIES):
        act.open_facility(unit_id=units[code], kind=kind, name=name,
                          opened_on=(date(YEAR, 2, 22) + timedelta(days=5 * index)).isoformat())
    for index, code in enumerate(BOOKSHELVES):
        act.open_facility(unit_id=units[code], kind="mobile_bookshelf",
                          name=f"一线班组流动书架{index + 1}号",
                          opened_on=(date(YEAR, 4, 23) + timedelta(days=3 * index)).isoformat())

    held = 0

    def run(campaign, kind, name, organiser, day, audience="all_staff", topic=None, place=None,
            facility=None, capacity=None, attendees=None, signups=(), hour=15):
        nonlocal held
        activity = act.schedule_activity(
            campaign_id=campaigns[campaign] if campaign else None, kind=kind, topic=topic,
            name=name,
            organiser_unit_id=units[organiser], starts_at=_at(day, hour),
            ends_at=_until(day, hour + 2), place=place, facility_id=facility,
            capacity=capacity, audience=audience,
            audience_unit_id=units[organiser] if audience == "subtree" else None)
        for member in signups:
            act.sign_up(activity_id=activity["id"], member_id=member["id"])
        if attendees:
            act.record_attendance(activity_id=activity["id"],
                                  member_ids=[m["id"] for m in attendees])
            held += 1
        return activity

    # 全民健康: lectures, women workers' health activities, charity.
    for index, (campaign, kind, topic, name, code, day, audience, place) in enumerate(HEALTH):
        pool = women if audience == "women" else people(code)
        attendees = pool[index % 3::2][:30] if kind != "donation_drive" else people(code)[:60]
        activity = run(campaign, kind, name, code, day, audience=audience, topic=topic,
                       place=place, attendees=attendees)
        if kind == "donation_drive":
            act.record_amount_raised(activity_id=activity["id"], amount_raised="36800.00")

    # 全民健身: 14 sports events; the badminton match had 16 places and a waiting list.
    for index, (kind, name, code, day, place) in enumerate(FITNESS):
        pool = people(code)
        if name == "职工羽毛球赛":
            players = pool[6::4][:20]
            activity = run("fitness", kind, name, code, day, place=place, capacity=16,
                           facility=venue_ids["机关羽毛球场"], signups=players)
            act.cancel_signup(activity_id=activity["id"], member_id=players[3]["id"])
            confirmed = [s for s in act.list_signups(activity_id=activity["id"])
                         if s["status"] == "confirmed"]
            act.record_attendance(activity_id=activity["id"],
                                  member_ids=[s["member_id"] for s in confirmed][:15])
            held += 1
            continue
        run("fitness", kind, name, code, day, place=place, attendees=pool[index % 4::3][:25])
    # A walk called off for the weather: those signed up were told; it counts for nothing.
    walk = act.schedule_activity(campaign_id=campaigns["fitness"], kind="fitness_event",
                                 name="秋季健步走", organiser_unit_id=units["XNY"],
                                 starts_at=_at("2021-08-19", 9), ends_at=_until("2021-08-19", 11),
                                 place="公司—红碱淖环线", capacity=50)
    for member in people("XNY")[1::7]:
        act.sign_up(activity_id=walk["id"], member_id=member["id"])
    act.cancel_activity(activity_id=walk["id"], reason="暴雨预警，活动取消")

    # Daily workplace exercise (工间操) in five grassroots units; a sixth set one up but has
    # recorded no session yet, so it does not count.
    for code in DAILY_EXERCISE + ["XNY-ZHNY"]:
        schedule = act.create_recurring(unit_id=units[code], campaign_id=campaigns["fitness"],
                                        kind="workplace_exercise", name="工间操",
                                        frequency="daily", time_of_day="10:00:00",
                                        starts_on="2021-03-01", place="办公区")
        if code == "XNY-ZHNY":
            continue
        crew = [m["id"] for m in people(code)]
        for month in range(3, 9):
            days = act.occurrences(schedule_id=schedule["id"],
                                   date_from=date(YEAR, month, 1).isoformat(),
                                   date_to=date(YEAR, month, 28).isoformat())
            for occurrence in days[:3]:
                act.record_participation(schedule_id=schedule["id"],
                                         held_on=occurrence["held_on"],
                                         member_ids=crew[month % 3::2])

    # 全民阅读: 20 reading classes and clubs across the units, and the weekly club of the
    # company offices (4 sessions recorded) — 24 reading sessions in all.
    for index in range(20):
        code = READING_UNITS[index % len(READING_UNITS)]
        topic = READING_TOPICS[index % len(READING_TOPICS)]
        day = date(YEAR, 3, 3) + timedelta(days=8 * index)
        while day.weekday() >= 5:
            day += timedelta(days=1)
        audience = "women" if topic.startswith("书香三八") else "all_staff"
        pool = [m for m in people(code) if audience == "all_staff" or m["gender"] == "female"]
        run("reading", "reading_session", f"{topic}（第{index // 5 + 1}期）", code,
            day.isoformat(), audience=audience, place="职工书屋", attendees=pool[:12])
    club = act.create_recurring(unit_id=units["XNY-JG"], campaign_id=campaigns["reading"],
                                kind="reading_club", name="机关读书会", frequency="weekly",
                                weekday=2, time_of_day="16:30:00", starts_on="2021-04-07",
                                place="机关职工书屋")
    crew = [m["id"] for m in people("XNY-JG")]
    for day in ("2021-04-07", "2021-04-14", "2021-04-21", "2021-04-28"):
        act.record_participation(schedule_id=club["id"], held_on=day, member_ids=crew[::2])

    # The youth mixer of the article (“青春有约 不负韶华”), with sign-ups; it belongs to
    # none of the three campaigns.
    youth = people("XNY")[::3][:24]
    run(None, "youth_mixer", "“青春有约 不负韶华”青年联谊活动", "XNY", "2021-05-04",
        place="公司职工之家", capacity=30, signups=youth, attendees=youth[:22])

    # Every member had the year's check-up (职工健康体检全覆盖), spread over spring.
    providers = ["陕煤集团职工医院体检中心", "神木市医院体检中心", "商洛市中心医院体检中心"]
    days = _working_days(date(YEAR, 4, 12), 40, skip={date(YEAR, 5, 3), date(YEAR, 5, 4),
                                                      date(YEAR, 5, 5), date(YEAR, 6, 14)})
    for index, member in enumerate(sorted(members, key=lambda m: m["employee_no"])):
        act.record_checkup(member_id=member["id"], checked_on=days[index % len(days)].isoformat(),
                           provider=providers[index % len(providers)])
    return {"created": True, "campaigns": len(campaigns), "activities_held": held,
            "checkups": len(members)}
