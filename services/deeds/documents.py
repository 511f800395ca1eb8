"""Printable documents: the quarterly public notice (HTML and PDF) and the ledger workbook
(台账) laid out as an office prints it."""

import html
import io
from copy import copy
from datetime import date

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from services.deeds.rules import BATCH_NAMES, FOCUS_AREAS

LEVEL_NAMES = {"party_committee": "党委", "grassroots": "基层"}
STATUS_NAMES = {"open": "推进中", "completed": "已办结", "noticed": "已公示",
                "non_conforming": "不符合"}
TRACK_NAMES = {"on_track": "正常推进", "under_supervision": "督办中",
               "completed_awaiting_notice": "已办结待公示", "publicly_noticed": "已公示",
               "non_conforming": "不符合待整改"}


def chinese_date(day):
    return f"{day.year}年{day.month}月{day.day}日" if day else ""


def _notice_title(notice):
    return f"{notice.year}年第{notice.quarter}季度“我为群众办实事”已办结实事公示"


def notice_html(notice, rows):
    body = "".join(
        f"<tr><td>{n}</td><td>{html.escape(r['item_title'])}</td>"
        f"<td>{LEVEL_NAMES.get(r['level'], r['level'])}</td>"
        f"<td>{html.escape(BATCH_NAMES.get(r['batch'], r['batch']))}</td>"
        f"<td>{html.escape(r['owner_unit_name'])}</td>"
        f"<td>{html.escape(r['responsible_member_name'] or '')}</td>"
        f"<td>{chinese_date(r['completed_on'])}</td></tr>"
        for n, r in enumerate(rows, start=1))
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{_notice_title(notice)}</title>
<style>
body {{ font-family: "Noto Serif CJK SC", "SimSun", serif; margin: 2cm; }}
h1 {{ text-align: center; font-size: 20pt; }}
table {{ border-collapse: collapse; width: 100%; font-size: 11pt; }}
th, td {{ border: 1px solid #000; padding: 4px 6px; }}
th {{ background: #eee; }}
p.window {{ margin-top: 1.5em; }}
@media print {{ body {{ margin: 1cm; }} }}
</style></head><body>
<h1>{_notice_title(notice)}</h1>
<p>现将本季度已办结的实事项目予以公示，接受职工群众监督。</p>
<table><thead><tr><th>序号</th><th>实事项目</th><th>层级</th><th>类别</th><th>责任单位</th>
<th>责任人</th><th>办结日期</th></tr></thead><tbody>{body}</tbody></table>
<p class="window">公示期：{chinese_date(notice.opens_on)}至{chinese_date(notice.closes_on)}。
如有异议，请在公示期内通过平台提出并说明理由。</p>
</body></html>
"""


CJK_FONT_FILES = [
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",  # Debian: fonts-wqy-zenhei
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",  # Debian: fonts-noto-cjk
]


def _cjk_font():
    """Embed a Chinese font when the machine has one (bin/install and the image install
    fonts-wqy-zenhei), so the PDF reads the same everywhere; otherwise fall back to
    reportlab's built-in CID font, which a viewer must supply (Adobe's Asian font pack)."""
    import os

    from reportlab.pdfbase import pdfmetrics

    for path in [os.environ.get("GONGHUI_CJK_FONT"), *CJK_FONT_FILES]:
        if path and os.path.exists(path):
            if "GonghuiCJK" not in pdfmetrics.getRegisteredFontNames():
                from reportlab.pdfbase.ttfonts import TTFont
                pdfmetrics.registerFont(TTFont("GonghuiCJK", path, subfontIndex=0))
            return "GonghuiCJK"
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    return "STSong-Light"


def notice_pdf(notice, rows):
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    font = _cjk_font()
    title = ParagraphStyle("title", fontName=font, fontSize=16, leading=22, alignment=1)
    text = ParagraphStyle("text", fontName=font, fontSize=9, leading=12)
    data = [["序号", "实事项目", "层级", "类别", "责任单位", "责任人", "办结日期"]] + [
        [str(n), Paragraph(html.escape(r["item_title"]), text),
         LEVEL_NAMES.get(r["level"], r["level"]), BATCH_NAMES.get(r["batch"], r["batch"]),
         Paragraph(html.escape(r["owner_unit_name"]), text),
         r["responsible_member_name"] or "", chinese_date(r["completed_on"])]
        for n, r in enumerate(rows, start=1)]
    table = Table(data, repeatRows=1, colWidths=[30, 260, 40, 60, 140, 60, 90])
    table.setStyle(TableStyle([
        ("FONT", (0, 0), (-1, -1), font, 9),
        ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
        ("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE")]))
    buffer = io.BytesIO()
    document = SimpleDocTemplate(buffer, pagesize=landscape(A4), title=_notice_title(notice))
    document.build([Paragraph(_notice_title(notice), title), Spacer(1, 12), table,
                    Spacer(1, 12),
                    Paragraph(f"公示期：{chinese_date(notice.opens_on)}至"
                              f"{chinese_date(notice.closes_on)}。如有异议，请在公示期内提出。",
                              text)])
    return buffer.getvalue()


def render_notice(notice, rows, file_format):
    if file_format == "pdf":
        return notice_pdf(notice, rows)
    return notice_html(notice, rows).encode("utf-8")


LEDGER_COLUMNS = [
    ("序号", 6), ("层级", 8), ("聚焦方向", 26), ("类别", 10), ("实事项目", 40),
    ("责任单位", 20), ("责任人", 10), ("计划完成", 12), ("进度%", 8), ("状态", 10),
    ("当前环节", 14), ("月报次数", 9), ("按时报送", 9), ("最近月报", 10), ("督办次数", 9),
    ("办结日期", 12), ("整改意见", 30)]


REPORT_COLUMNS = [
    ("序号", 6), ("实事项目", 36), ("责任单位", 20), ("月份", 9), ("进度%", 8),
    ("汇报内容", 50), ("附件", 20), ("报送日期", 12), ("应报日期", 12), ("是否按时", 9)]

ORDER_COLUMNS = [
    ("序号", 6), ("实事项目", 36), ("责任单位", 20), ("月份", 9), ("督办事由", 36),
    ("督办单位", 20), ("下发日期", 12), ("办理时限", 12), ("升级次数", 9), ("升级至", 20),
    ("状态", 8), ("办结日期", 12), ("办结方式", 10), ("情况说明", 36)]

OBJECTION_COLUMNS = [
    ("序号", 6), ("公示", 16), ("实事项目", 36), ("责任单位", 20), ("提出人", 10),
    ("异议内容", 40), ("提出日期", 12), ("处理结果", 10), ("处理意见", 36)]

ORDER_STATUS_NAMES = {"open": "督办中", "closed": "已办结"}
CLOSED_BY_NAMES = {"report": "补报月报", "explanation": "说明已采纳", "completion": "项目办结"}
OBJECTION_STATUS_NAMES = {"raised": "待处理", "upheld": "成立", "rejected": "不成立"}


class _Styles:
    """One object per style, shared by every cell (a new object per cell made a 10,000-row
    ledger take 30 s instead of 6)."""

    def __init__(self):
        thin = Side(style="thin")
        self.border = Border(left=thin, right=thin, top=thin, bottom=thin)
        self.header_fill = PatternFill("solid", fgColor="DDDDDD")
        self.header_font = Font(bold=True)
        self.header_alignment = Alignment(horizontal="center", vertical="center",
                                          wrap_text=True)
        self.body_alignment = Alignment(vertical="top", wrap_text=True)
        self.title_font = Font(size=16, bold=True)
        self.title_alignment = Alignment(horizontal="center")


def _table_sheet(sheet, title, columns, lines, styles):
    """A printable table on a write-only sheet (rows stream to the file, so a year of
    reports does not sit in memory as cell objects): a title, the export date, a bordered
    header repeated on every printed page, frozen and filterable; landscape A4, fit to
    width. What the file writes before the rows (widths, frozen panes) is set first."""
    last = get_column_letter(len(columns))
    for col, (_, width) in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(col)].width = width
    sheet.freeze_panes = "A4"
    sheet.print_title_rows = "3:3"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = Worksheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True

    templates = {}

    def cell(value, font=None, fill=None, border=None, alignment=None):
        # Assigning a style object registers (hashes) it in the workbook: done once per
        # combination of styles, then each cell takes a copy of the template's style ids.
        dated = isinstance(value, date)
        key = (id(font), id(fill), id(border), id(alignment), dated)
        if key not in templates:
            template = WriteOnlyCell(sheet)
            for name, style in (("font", font), ("fill", fill), ("border", border),
                                ("alignment", alignment)):
                if style is not None:
                    setattr(template, name, style)
            if dated:
                template.number_format = "yyyy-mm-dd"
            templates[key] = template._style
        written = WriteOnlyCell(sheet, value=value)
        written._style = copy(templates[key])
        return written

    sheet.append([cell(title, font=styles.title_font, alignment=styles.title_alignment)])
    sheet.merged_cells.add(f"A1:{last}1")
    sheet.append([f"导出日期：{chinese_date(date.today())}"])
    sheet.append([cell(name, styles.header_font, styles.header_fill, styles.border,
                       styles.header_alignment) for name, _ in columns])
    count = 0
    for count, values in enumerate(lines, start=1):
        sheet.append([cell(value, border=styles.border, alignment=styles.body_alignment)
                      for value in [count, *values]])
    sheet.auto_filter.ref = f"A3:{last}{3 + count}"


def ledger_workbook(rows, year=None, reports=None, orders=None, objections=None):
    """The ledger (台账): a sheet of items; with the details given, a sheet each of their
    monthly reports, supervision orders and notice objections. ``reports``, ``orders`` and
    ``objections`` are rows carrying ``item_title`` and ``owner_unit_name``."""
    workbook = Workbook(write_only=True)
    styles = _Styles()
    prefix = f"{year}年" if year else ""
    _table_sheet(workbook.create_sheet("实事台账"), f"{prefix}“我为群众办实事”项目台账",
                 LEDGER_COLUMNS, (
        [LEVEL_NAMES.get(r["level"], r["level"]),
         FOCUS_AREAS.get(r["focus_area"], r["focus_area"]),
         BATCH_NAMES.get(r["batch"], r["batch"]), r["title"], r["owner_unit_name"],
         r["responsible_member_name"] or "", r["planned_completion"], r["progress"],
         STATUS_NAMES.get(r["status"], r["status"]), TRACK_NAMES.get(r["track"], r["track"]),
         r["reports"], r["reports_on_time"], r["last_report_period"] or "",
         r["supervision_orders"], r["completed_on"], r["feedback"] or ""]
        for r in rows), styles)
    if reports is not None:
        _table_sheet(workbook.create_sheet("月度汇报"), f"{prefix}实事项目月度汇报",
                     REPORT_COLUMNS, (
                         [r["item_title"], r["owner_unit_name"], r["period"], r["progress"],
                          r["text"], r["attachment_ref"] or "", r["submitted_on"],
                          r["due_on"], "是" if r["on_time"] else "否"]
                         for r in reports), styles)
    if orders is not None:
        _table_sheet(workbook.create_sheet("督办单"), f"{prefix}实事项目月督办", ORDER_COLUMNS, (
            [o["item_title"], o["owner_unit_name"], o["period"], o["reason"],
             o["supervising_unit_name"], o["issued_on"], o["deadline"],
             o["escalation_level"], o["escalated_to_unit_name"] or "",
             ORDER_STATUS_NAMES.get(o["status"], o["status"]), o["closed_on"],
             CLOSED_BY_NAMES.get(o["closed_by"], o["closed_by"] or ""),
             o["explanation"] or ""] for o in orders), styles)
    if objections is not None:
        _table_sheet(workbook.create_sheet("公示异议"), f"{prefix}季度公示异议处理",
                     OBJECTION_COLUMNS, (
                         [f"{o['year']}年第{o['quarter']}季度", o["item_title"],
                          o["owner_unit_name"], o["member_name"], o["reason"], o["raised_on"],
                          OBJECTION_STATUS_NAMES.get(o["status"], o["status"]),
                          o["review_note"] or ""] for o in objections), styles)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
