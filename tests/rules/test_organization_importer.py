"""Units and members from and to CSV/xlsx: every kind of bad row, with its line number.

Files are built in memory with openpyxl and csv; no broker, no database.
"""

import csv
import io
from datetime import date, datetime

import pytest
from openpyxl import Workbook, load_workbook

from services.organization import rules
from services.organization.importer import (
    GENDER_LABELS,
    MEMBER_COLUMNS,
    MOBILE_PATTERN,
    UNION_LEVEL_LABELS,
    UNIT_COLUMNS,
    UNIT_KIND_LABELS,
    Problem,
    Row,
    check_members,
    check_units,
    read_rows,
    write_rows,
)

MEMBER_HEADER = ["工号", "姓名", "性别", "单位编码", "邮箱", "手机号", "企业微信", "入会日期"]
UNIT_HEADER = ["单位编码", "单位名称", "单位类型", "领域", "上级单位编码", "成立日期",
               "工会级别", "工会名称"]
GOOD_MEMBER = ["E001", "张三", "男", "U1", "zhang@example.cn", "13800138000", "zhangsan",
               "2021-08-30"]
GOOD_UNIT = ["U1", "华北公司", "公司", "能源", "", "2001-01-01", "公司工会", "华北公司工会"]


def xlsx(rows):
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def csv_bytes(rows, encoding="utf-8"):
    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode(encoding)


def make(fmt, rows):
    return xlsx(rows) if fmt == "xlsx" else csv_bytes(rows)


def reasons(problems):
    return [(p.line, p.reason) for p in problems]


# ------------------------------------------------------------------ vocabulary


def test_label_tables_cover_the_service_vocabulary_exactly():
    assert set(UNIT_KIND_LABELS) == set(rules.UNIT_KINDS)
    assert set(UNION_LEVEL_LABELS) == set(rules.UNION_LEVELS)
    assert set(GENDER_LABELS) == set(rules.GENDERS)


def test_mobile_rule_is_the_schemas_rule():
    from services.organization.schemas import MOBILE

    assert MOBILE_PATTERN.pattern == MOBILE.regex.pattern


def test_column_order_and_headers():
    assert [(c.key, c.header) for c in UNIT_COLUMNS] == [
        ("code", "单位编码"), ("name", "单位名称"), ("kind", "单位类型"), ("domain", "领域"),
        ("parent_code", "上级单位编码"), ("established_on", "成立日期"),
        ("union_level", "工会级别"), ("union_name", "工会名称")]
    assert [(c.key, c.header) for c in MEMBER_COLUMNS] == [
        ("employee_no", "工号"), ("name", "姓名"), ("gender", "性别"), ("unit_code", "单位编码"),
        ("email", "邮箱"), ("mobile", "手机号"), ("wecom_id", "企业微信"),
        ("joined_on", "入会日期")]


def test_unknown_kind_or_format_is_a_programming_error():
    with pytest.raises(ValueError):
        read_rows("people", "csv", b"x")
    with pytest.raises(ValueError):
        read_rows("units", "xls", b"x")
    with pytest.raises(ValueError):
        write_rows("units", "ods", [])


# ------------------------------------------------------------------ headers


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_chinese_headers(fmt):
    rows, problems = read_rows("members", fmt, make(fmt, [MEMBER_HEADER, GOOD_MEMBER]))
    assert problems == []
    assert rows == [Row(2, {
        "employee_no": "E001", "name": "张三", "gender": "male", "unit_code": "U1",
        "email": "zhang@example.cn", "mobile": "13800138000", "wecom_id": "zhangsan",
        "joined_on": date(2021, 8, 30)})]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_english_headers_any_order_case_and_spaces(fmt):
    header = [" Joined On ", "UNIT_CODE", "gender", "Name", "employee_no", "Wecom Id"]
    content = make(fmt, [header, ["2021/8/30", "U1", "female", "李四", "E002", ""]])
    rows, problems = read_rows("members", fmt, content)
    assert problems == []
    assert rows[0].values == {
        "employee_no": "E002", "name": "李四", "gender": "female", "unit_code": "U1",
        "email": None, "mobile": None, "wecom_id": None, "joined_on": date(2021, 8, 30)}


def test_mixed_chinese_and_english_headers_and_starred_required_ones():
    content = csv_bytes([["*单位编码", "name", "单位类型", "Parent Code"],
                         ["U2", "生产部", "department", "U1"]])
    rows, problems = read_rows("units", "csv", content)
    assert problems == []
    assert rows[0].values["parent_code"] == "U1"
    assert rows[0].values["kind"] == "department"


def test_unknown_column_is_a_problem_on_line_1_and_the_rest_is_still_read():
    content = csv_bytes([MEMBER_HEADER + ["备注"], GOOD_MEMBER + ["党员"]])
    rows, problems = read_rows("members", "csv", content)
    assert len(problems) == 1
    assert problems[0].line == 1
    assert problems[0].reason.startswith("unknown column '备注' (column I); expected: 工号/")
    assert rows[0].values["employee_no"] == "E001"


def test_missing_required_columns_are_problems_on_line_1():
    content = csv_bytes([["姓名", "性别", "邮箱"], ["张三", "男", ""]])
    rows, problems = read_rows("members", "csv", content)
    assert rows == []
    assert reasons(problems) == [
        (1, "missing required column 工号/employee_no"),
        (1, "missing required column 单位编码/unit_code"),
        (1, "missing required column 入会日期/joined_on")]


def test_a_column_given_twice_is_a_problem():
    content = csv_bytes([MEMBER_HEADER + ["employee_no"], GOOD_MEMBER + ["E999"]])
    rows, problems = read_rows("members", "csv", content)
    assert reasons(problems) == [
        (1, "column 'employee_no' (column I) repeats 工号/employee_no from column A")]
    assert rows[0].values["employee_no"] == "E001"


def test_a_title_row_above_the_header_gives_one_clear_problem():
    content = xlsx([["华北公司工会会员名单"], MEMBER_HEADER, GOOD_MEMBER])
    rows, problems = read_rows("members", "xlsx", content)
    assert rows == []
    assert len(problems) == 1
    assert problems[0].line == 1
    assert problems[0].reason.startswith("line 1 must be the header row, but none of its cells")


def test_blank_first_line_is_not_a_header():
    rows, problems = read_rows("members", "csv", csv_bytes([[], MEMBER_HEADER, GOOD_MEMBER]))
    assert rows == []
    assert reasons(problems) == [(1, "line 1 must be the header row, but it is empty")]


# ------------------------------------------------------------------ unreadable files


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_empty_file(fmt):
    assert read_rows("units", fmt, b"") == ([], [Problem(0, "the file is empty")])


def test_blank_only_csv_has_no_header():
    assert read_rows("units", "csv", b"\r\n,,\r\n") == (
        [], [Problem(1, "the file has no header row and no data")])


def test_header_only_file_has_no_rows_and_no_problems():
    assert read_rows("units", "xlsx", xlsx([UNIT_HEADER])) == ([], [])


def test_not_an_xlsx_file():
    rows, problems = read_rows("units", "xlsx", csv_bytes([UNIT_HEADER, GOOD_UNIT]))
    assert rows == []
    assert len(problems) == 1
    assert problems[0].line == 0
    assert problems[0].reason.startswith("the file is not a readable Excel .xlsx workbook")


def test_an_old_xls_file_is_named_as_such():
    content = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100
    assert read_rows("units", "xlsx", content) == ([], [Problem(
        0, "this is an old Excel .xls file; save it as .xlsx and upload again")])


def test_csv_in_no_known_encoding():
    rows, problems = read_rows("units", "csv", b"\xff\xff\xff\xff")
    assert rows == []
    assert problems[0].line == 0
    assert "neither UTF-8 nor GB18030" in problems[0].reason


# ------------------------------------------------------------------ encodings


def test_gb18030_csv_from_chinese_excel():
    content = csv_bytes([MEMBER_HEADER, GOOD_MEMBER], encoding="gb18030")
    with pytest.raises(UnicodeDecodeError):
        content.decode("utf-8")
    rows, problems = read_rows("members", "csv", content)
    assert problems == []
    assert rows[0].values["name"] == "张三"
    assert rows[0].values["gender"] == "male"


def test_utf8_csv_with_bom():
    content = csv_bytes([MEMBER_HEADER, GOOD_MEMBER], encoding="utf-8-sig")
    assert content.startswith(b"\xef\xbb\xbf")
    rows, problems = read_rows("members", "csv", content)
    assert problems == []
    # The BOM must not stick to the first header.
    assert rows[0].values["employee_no"] == "E001"


def test_excel_unicode_text_export_utf16_tab_separated():
    text = "\t".join(MEMBER_HEADER) + "\r\n" + "\t".join(GOOD_MEMBER) + "\r\n"
    rows, problems = read_rows("members", "csv", text.encode("utf-16"))
    assert problems == []
    assert rows[0].values["name"] == "张三"


# ------------------------------------------------------------------ cells


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_blank_rows_are_skipped_but_lines_stay_true(fmt):
    other = ["E002", "李四", "女", "U1", "", "", "", "2022-01-01"]
    bad = ["E003", "王五", "未知", "U1", "", "", "", "2022-01-01"]
    content = make(fmt, [MEMBER_HEADER, GOOD_MEMBER, [], ["", " ", ""], other, [], bad])
    rows, problems = read_rows("members", fmt, content)
    assert [r.line for r in rows] == [2, 5, 7]
    assert reasons(problems) == [
        (7, "性别/gender: '未知' is not one of 男, 女, male, female")]


def test_cells_are_stripped():
    row = ["  E001 ", " 张三\u3000", " 女 ", " U1", " ", "", "", " 2021-08-30 "]
    rows, problems = read_rows("members", "csv", csv_bytes([MEMBER_HEADER, row]))
    assert problems == []
    assert rows[0].values["employee_no"] == "E001"
    assert rows[0].values["name"] == "张三"
    assert rows[0].values["email"] is None


@pytest.mark.parametrize("text", ["2021-08-30", "2021/8/30", "2021年8月30日", "2021-8-30",
                                  "2021/08/30", "2021年08月30日"])
def test_date_formats(text):
    row = GOOD_MEMBER[:7] + [text]
    rows, problems = read_rows("members", "csv", csv_bytes([MEMBER_HEADER, row]))
    assert problems == []
    assert rows[0].values["joined_on"] == date(2021, 8, 30)


def test_excel_date_cells_and_numeric_codes():
    content = xlsx([
        MEMBER_HEADER,
        [1001, "张三", "男", 2001, None, 13800138000, None, date(2021, 8, 30)],
        [1002.0, "李四", "女", "2001", None, 13900139000.0, None, datetime(2020, 1, 2, 9, 30)],
    ])
    rows, problems = read_rows("members", "xlsx", content)
    assert problems == []
    assert [r.values["employee_no"] for r in rows] == ["1001", "1002"]
    assert [r.values["unit_code"] for r in rows] == ["2001", "2001"]
    assert [r.values["mobile"] for r in rows] == ["13800138000", "13900139000"]
    assert [r.values["joined_on"] for r in rows] == [date(2021, 8, 30), date(2020, 1, 2)]


def test_excel_date_cell_and_number_where_they_do_not_belong():
    # Excel turns a code such as "2021-1" into a date; a date cell shown as General is a number.
    content = xlsx([MEMBER_HEADER,
                    [datetime(2021, 1, 1), "张三", "男", "U1", None, None, None, 44438]])
    rows, problems = read_rows("members", "xlsx", content)
    assert reasons(problems) == [
        (2, "工号/employee_no: Excel turned this cell into a date (2021-01-01); format the "
            "column as text and type it again"),
        (2, "入会日期/joined_on: '44438' is a number, not a date; use YYYY-MM-DD, YYYY/M/D or "
            "YYYY年M月D日")]
    # Bad cells are left out of the values; the rest of the row is there.
    assert "employee_no" not in rows[0].values
    assert "joined_on" not in rows[0].values
    assert rows[0].values["name"] == "张三"


@pytest.mark.parametrize("typed", ["138 0013 8000", "138-0013-8000", "+86 13800138000"])
def test_mobile_separators_and_country_code(typed):
    row = GOOD_MEMBER[:5] + [typed] + GOOD_MEMBER[6:]
    rows, problems = read_rows("members", "csv", csv_bytes([MEMBER_HEADER, row]))
    assert problems == []
    assert rows[0].values["mobile"] == "13800138000"


MEMBER_BAD_CELLS = [
    (2, "未知", "性别/gender: '未知' is not one of 男, 女, male, female"),
    (2, "", "性别/gender: is required"),
    (0, "", "工号/employee_no: is required"),
    (0, "E" * 41, "工号/employee_no: is 41 characters long, more than 40"),
    (1, "", "姓名/name: is required"),
    (1, "张" * 101, "姓名/name: is 101 characters long, more than 100"),
    (3, "", "单位编码/unit_code: is required"),
    (4, "zhang@", "邮箱/email: 'zhang@' is not an email address"),
    (5, "12800138000", "手机号/mobile: '12800138000' is not a mainland mobile number "
                       "(11 digits starting 13-19)"),
    (5, "1380013800", "手机号/mobile: '1380013800' is not a mainland mobile number "
                      "(11 digits starting 13-19)"),
    (6, "w" * 101, "企业微信/wecom_id: is 101 characters long, more than 100"),
    (7, "", "入会日期/joined_on: is required"),
    (7, "2021.8.30x", "入会日期/joined_on: '2021.8.30x' is not a date; use YYYY-MM-DD, "
                      "YYYY/M/D or YYYY年M月D日"),
    (7, "2021-02-30", "入会日期/joined_on: '2021-02-30' is not a real date"),
    (7, "2021-8/30", "入会日期/joined_on: '2021-8/30' is not a date; use YYYY-MM-DD, "
                     "YYYY/M/D or YYYY年M月D日"),
    (7, "30/8/2021", "入会日期/joined_on: '30/8/2021' is not a date; use YYYY-MM-DD, "
                     "YYYY/M/D or YYYY年M月D日"),
]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize(("index", "cell", "reason"), MEMBER_BAD_CELLS)
def test_each_bad_member_cell_on_its_line(fmt, index, cell, reason):
    bad = list(GOOD_MEMBER)
    bad[index] = cell
    good = [f"E{n:03d}" for n in (2, 3, 4)]
    content = make(fmt, [MEMBER_HEADER,
                         [good[0]] + GOOD_MEMBER[1:],
                         [good[1]] + GOOD_MEMBER[1:],
                         [],
                         bad,
                         [good[2]] + GOOD_MEMBER[1:]])
    rows, problems = read_rows("members", fmt, content)
    assert reasons(problems) == [(5, reason)]
    assert [r.line for r in rows] == [2, 3, 5, 6]


UNIT_BAD_CELLS = [
    (0, "", "单位编码/code: is required"),
    (0, "C" * 41, "单位编码/code: is 41 characters long, more than 40"),
    (1, "", "单位名称/name: is required"),
    (2, "", "单位类型/kind: is required"),
    (2, "工厂", "单位类型/kind: '工厂' is not one of 公司, 子公司, 厂矿, 部门, 车间, 班组, 机关, "
               "company, subsidiary, plant, department, workshop, team, office"),
    (3, "领" * 61, "领域/domain: is 61 characters long, more than 60"),
    (5, "2001-13-01", "成立日期/established_on: '2001-13-01' is not a real date"),
    (6, "总工会", "工会级别/union_level: '总工会' is not one of 公司工会, 基层工会, 工会小组, "
                "company_union, grassroots_union, union_group"),
    (6, "", "工会级别/union_level: is required when 工会名称/union_name is given"),
    (7, "", "工会名称/union_name: is required when 工会级别/union_level is given"),
]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize(("index", "cell", "reason"), UNIT_BAD_CELLS)
def test_each_bad_unit_cell_on_its_line(fmt, index, cell, reason):
    bad = list(GOOD_UNIT)
    bad[index] = cell
    rows, problems = read_rows("units", fmt, make(fmt, [UNIT_HEADER, GOOD_UNIT, bad]))
    assert reasons(problems) == [(3, reason)]


def test_unit_values_with_english_and_chinese_labels():
    content = csv_bytes([UNIT_HEADER,
                         ["U1", "华北公司", "公司", "", "", "", "公司工会", "华北公司工会"],
                         ["U2", "一厂", "Plant", "", "U1", "2001年1月1日", "grassroots union",
                          "一厂工会"],
                         ["U3", "一车间", "车间", "", "U2", "", "", ""]])
    rows, problems = read_rows("units", "csv", content)
    assert problems == []
    assert [(r.values["kind"], r.values["union_level"]) for r in rows] == [
        ("company", "company_union"), ("plant", "grassroots_union"), ("workshop", None)]
    assert rows[1].values["established_on"] == date(2001, 1, 1)


def test_a_row_with_several_problems_reports_each():
    bad = ["", "张三", "未知", "U1", "not-mail", "123", "", "昨天"]
    content = csv_bytes([MEMBER_HEADER, GOOD_MEMBER, bad])
    rows, problems = read_rows("members", "csv", content)
    assert reasons(problems) == [
        (3, "工号/employee_no: is required"),
        (3, "性别/gender: '未知' is not one of 男, 女, male, female"),
        (3, "邮箱/email: 'not-mail' is not an email address"),
        (3, "手机号/mobile: '123' is not a mainland mobile number (11 digits starting 13-19)"),
        (3, "入会日期/joined_on: '昨天' is not a date; use YYYY-MM-DD, YYYY/M/D or YYYY年M月D日"),
    ]
    assert len(rows) == 2


def test_data_beyond_the_header_is_a_problem_on_its_line():
    # An unquoted comma in a name shifts the row one cell to the right.
    content = (",".join(MEMBER_HEADER) + "\n" + ",".join(GOOD_MEMBER) + "\n"
               + "E002,张,三,女,U1,,,,2021-08-30\n").encode()
    rows, problems = read_rows("members", "csv", content)
    assert (3, "column I has no header, but holds '2021-08-30'") in reasons(problems)
    assert all(p.line == 3 for p in problems)


def test_data_under_a_blank_header_cell_is_a_problem():
    content = xlsx([["工号", None, "姓名", "性别", "单位编码", "入会日期"],
                    ["E001", "多余", "张三", "男", "U1", "2021-08-30"]])
    rows, problems = read_rows("members", "xlsx", content)
    assert reasons(problems) == [(2, "column B has no header, but holds '多余'")]


def test_a_quoted_multiline_csv_cell_is_one_line():
    content = (",".join(MEMBER_HEADER) + "\r\n"
               + 'E001,"张\n三",男,U1,,,,2021-08-30\r\n'
               + "E002,李四,未知,U1,,,,2021-08-30\r\n").encode()
    rows, problems = read_rows("members", "csv", content)
    assert rows[0].values["name"] == "张\n三"
    assert [p.line for p in problems] == [3]


# ------------------------------------------------------------------ check_units


def unit_rows(*specs, start=2):
    """specs: (code, parent_code) pairs, one per line from ``start``."""
    return [Row(start + i, {"code": code, "name": code, "kind": "department", "domain": None,
                            "parent_code": parent, "established_on": None,
                            "union_level": None, "union_name": None})
            for i, (code, parent) in enumerate(specs)]


def test_units_are_ordered_parents_first_and_marked_new_or_existing():
    rows = unit_rows(("C", "B"), ("B", "A"), ("A", "ROOT"), ("D", None), ("ROOT", None))
    ordered, problems = check_units(rows, {"ROOT", "A"})
    assert problems == []
    codes = [r.values["code"] for r in ordered]
    for child, parent in (("C", "B"), ("B", "A"), ("A", "ROOT")):
        assert codes.index(parent) < codes.index(child)
    assert {r.values["code"]: r.values["existing"] for r in ordered} == {
        "A": True, "ROOT": True, "B": False, "C": False, "D": False}
    # The input is left alone.
    assert "existing" not in rows[0].values


def test_parent_that_is_an_existing_unit_is_a_root():
    ordered, problems = check_units(unit_rows(("X", "OLD")), {"OLD"})
    assert problems == []
    assert ordered[0].values["existing"] is False


def test_duplicate_unit_code_reports_the_second_with_the_first_line():
    rows = unit_rows(("A", None), ("B", "A"), ("A", None), ("A", "B"))
    _, problems = check_units(rows, set())
    assert reasons(problems) == [(4, "单位编码/code: 'A' is also on line 2"),
                                 (5, "单位编码/code: 'A' is also on line 2")]


def test_missing_parent():
    _, problems = check_units(unit_rows(("A", None), ("B", "Z")), {"Y"})
    assert reasons(problems) == [
        (3, "上级单位编码/parent_code: 'Z' is neither in this file nor an existing unit")]


def test_a_unit_cannot_be_its_own_parent():
    ordered, problems = check_units(unit_rows(("A", None), ("B", "B")), set())
    assert reasons(problems) == [(3, "上级单位编码/parent_code: a unit cannot be its own parent")]
    assert len(ordered) == 2


def test_a_cycle_is_reported_for_each_row_in_it_and_only_those():
    # A -> B -> C -> A loops; D hangs below the loop; E is fine.
    rows = unit_rows(("E", None), ("A", "B"), ("B", "C"), ("D", "A"), ("C", "A"))
    ordered, problems = check_units(rows, set())
    assert reasons(problems) == [
        (3, "上级单位编码/parent_code: the parent chain loops back to 'A': A → B → C → A "
            "(lines 3, 4, 6)"),
        (4, "上级单位编码/parent_code: the parent chain loops back to 'B': B → C → A → B "
            "(lines 4, 6, 3)"),
        (6, "上级单位编码/parent_code: the parent chain loops back to 'C': C → A → B → C "
            "(lines 6, 3, 4)"),
    ]
    # Every row is still returned: the clean one first, the loop and what hangs below it last.
    assert [r.values["code"] for r in ordered][0] == "E"
    assert len(ordered) == 5


def test_two_unit_cycle_through_existing_code_in_file():
    # An existing unit re-parented in the file still counts: the file's links form the loop.
    _, problems = check_units(unit_rows(("A", "B"), ("B", "A")), {"A", "B"})
    assert [p.line for p in problems] == [2, 3]


def test_rows_with_a_bad_code_pass_through_without_cascading():
    rows = unit_rows(("A", None), ("B", "A"))
    del rows[0].values["code"]  # as read_rows leaves a bad code cell
    ordered, problems = check_units(rows, set())
    # B's parent is unknown only because A's cell was bad: it is still reported, once.
    assert [p.line for p in problems] == [3]
    assert len(ordered) == 2


def test_long_parent_chain_is_ordered_without_recursion():
    chain = [(f"U{n}", f"U{n - 1}" if n else None) for n in range(3000)]
    ordered, problems = check_units(unit_rows(*reversed(chain)), set())
    assert problems == []
    assert [r.values["code"] for r in ordered] == [code for code, _ in chain]


def test_units_read_from_a_file_then_checked():
    content = xlsx([UNIT_HEADER,
                    ["U3", "一车间", "车间", None, "U2", None, None, None],
                    ["U2", "一厂", "厂矿", None, "U1", None, "基层工会", "一厂工会"],
                    ["U1", "华北公司", "公司", None, None, None, "公司工会", "华北公司工会"],
                    ["U2", "二厂", "厂矿", None, "U1", None, None, None]])
    rows, problems = read_rows("units", "xlsx", content)
    assert problems == []
    ordered, problems = check_units(rows, set())
    assert reasons(problems) == [(5, "单位编码/code: 'U2' is also on line 3")]
    assert [r.line for r in ordered][:3] == [4, 3, 5]


# ------------------------------------------------------------------ check_members


def member_rows(*specs):
    return [Row(2 + i, {"employee_no": no, "name": "张三", "gender": "male", "unit_code": unit,
                        "email": None, "mobile": None, "wecom_id": None,
                        "joined_on": date(2021, 8, 30)})
            for i, (no, unit) in enumerate(specs)]


def test_members_duplicates_unknown_units_and_updates():
    rows = member_rows(("E1", "U1"), ("E2", "NEW"), ("E1", "U1"), ("E3", "GONE"))
    checked, problems = check_members(rows, {"E2"}, {"U1", "NEW"})
    assert reasons(problems) == [
        (4, "工号/employee_no: 'E1' is also on line 2"),
        (5, "单位编码/unit_code: 'GONE' is neither an existing unit nor one this import creates"),
    ]
    assert [r.values["existing"] for r in checked] == [False, True, False, False]
    assert "existing" not in rows[0].values


# ------------------------------------------------------------------ writing


UNIT_RECORDS = [
    {"code": "U1", "name": "华北公司", "kind": "company", "domain": "能源",
     "parent_code": None, "established_on": date(2001, 1, 1), "union_level": "company_union",
     "union_name": "华北公司工会"},
    {"code": "1001", "name": "=一厂", "kind": "plant", "domain": None, "parent_code": "U1",
     "established_on": date(2010, 6, 30), "union_level": "grassroots_union",
     "union_name": "一厂工会"},
    {"code": "007", "name": "@班组", "kind": "team", "domain": "-", "parent_code": "1001",
     "established_on": None, "union_level": "union_group", "union_name": "+小组"},
    {"code": "U9", "name": "机关党办", "kind": "office", "domain": None, "parent_code": "U1",
     "established_on": None, "union_level": None, "union_name": None},
]
MEMBER_RECORDS = [
    {"employee_no": "E001", "name": "张三", "gender": "male", "unit_code": "U1",
     "email": "zhang@example.cn", "mobile": "13800138000", "wecom_id": "zhangsan",
     "joined_on": date(2021, 8, 30)},
    {"employee_no": "0042", "name": "李四, 小名\"四儿\"", "gender": "female", "unit_code": "007",
     "email": None, "mobile": None, "wecom_id": None, "joined_on": date(1999, 12, 31)},
    {"employee_no": "1002", "name": "=HYPERLINK(\"http://x\")", "gender": "male",
     "unit_code": "U1", "email": None, "mobile": "19912345678", "wecom_id": "-w",
     "joined_on": date(2024, 2, 29)},
]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize(("kind", "records"), [("units", UNIT_RECORDS),
                                                ("members", MEMBER_RECORDS)])
def test_round_trip(kind, fmt, records):
    rows, problems = read_rows(kind, fmt, write_rows(kind, fmt, records))
    assert problems == []
    assert [r.values for r in rows] == records
    assert [r.line for r in rows] == list(range(2, 2 + len(records)))


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_round_trip_from_rpc_shaped_records(fmt):
    # Over RPC dates arrive as ISO strings and records carry extra keys.
    records = [{**MEMBER_RECORDS[0], "joined_on": "2021-08-30", "id": 7, "existing": True}]
    rows, problems = read_rows("members", fmt, write_rows("members", fmt, records))
    assert problems == []
    assert rows[0].values == MEMBER_RECORDS[0]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_empty_export_is_a_template(fmt):
    assert read_rows("units", fmt, write_rows("units", fmt, [])) == ([], [])


def test_csv_export_has_bom_chinese_headers_and_labels():
    content = write_rows("members", "csv", MEMBER_RECORDS)
    assert content.startswith(b"\xef\xbb\xbf")
    lines = list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))
    assert lines[0] == MEMBER_HEADER
    assert lines[1] == ["E001", "张三", "男", "U1", "zhang@example.cn", "13800138000",
                        "zhangsan", "2021-08-30"]
    # Formula-looking text is quoted so Excel shows it instead of running it.
    assert lines[3][1] == "'=HYPERLINK(\"http://x\")"


def test_xlsx_export_layout():
    content = write_rows("units", "xlsx", UNIT_RECORDS)
    sheet = load_workbook(io.BytesIO(content)).worksheets[0]
    assert [c.value for c in sheet[1]] == UNIT_HEADER
    assert all(c.font.bold for c in sheet[1])
    assert sheet.freeze_panes == "A2"
    assert [c.value for c in sheet[2]] == ["U1", "华北公司", "公司", "能源", None,
                                           datetime(2001, 1, 1), "公司工会", "华北公司工会"]
    assert sheet["F2"].is_date
    assert sheet["F2"].number_format == "yyyy-mm-dd"
    # Text that looks like a formula is stored as text, not as a formula.
    assert sheet["B3"].data_type == "s"
    assert sheet["B3"].value == "=一厂"
    widths = {letter: sheet.column_dimensions[letter].width for letter in "ABCDEFGH"}
    assert all(8 <= w <= 60 for w in widths.values())
    assert widths["E"] > widths["A"]  # 上级单位编码 is the widest header


# ------------------------------------------------------------------ scale


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_two_thousand_members(fmt):
    units = [f"U{n}" for n in range(20)]
    table = [MEMBER_HEADER]
    for n in range(2000):
        table.append([10000 + n if fmt == "xlsx" else str(10000 + n), f"会员{n}",
                      "男" if n % 2 else "女", units[n % 20], f"m{n}@example.cn",
                      f"139{n:08d}", f"wx{n}", date(2020, 1, 1) if fmt == "xlsx" else "2020/1/1"])
    # table[n] is line n + 1.
    table[1500][2] = "未知"
    table[1800][0] = table[10][0]
    table[1900][3] = "U99"
    rows, problems = read_rows("members", fmt, make(fmt, table))
    assert len(rows) == 2000
    assert reasons(problems) == [(1501, "性别/gender: '未知' is not one of 男, 女, male, female")]
    checked, more = check_members(rows, {"10000"}, set(units))
    assert reasons(more) == [
        (1801, "工号/employee_no: '10009' is also on line 11"),
        (1901, "单位编码/unit_code: 'U99' is neither an existing unit nor one this import "
               "creates")]
    assert sum(r.values["existing"] for r in checked) == 1
