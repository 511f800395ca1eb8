"""Import and export of the offices' spreadsheets (Excel .xlsx or CSV) of units and members.
The file layouts, the reading of rows and their checks are ``importer``'s; here each good row
goes through the same use cases as an RPC call, all or nothing.

Use cases as plain functions of ``work``, the worker's service instance, used only through
``work.db`` (the session: one unit of work, committed by the kit after the entrypoint) and
``work.emit`` (an event with its audit row, in that transaction). Questions take the session.
"""

import base64

from gonghui.clock import today
from gonghui.errors import GonghuiError, ValidationError
from services.organization import importer, members, queries, tree


def import_file(work, kind, file_format, content_base64, dry_run):
    try:
        content = base64.b64decode(content_base64, validate=True)
    except ValueError:
        raise ValidationError("invalid file", {"content_base64": ["not base64"]}) from None
    rows, problems = importer.read_rows(kind, file_format, content)
    if kind == "units":
        rows, more = importer.check_units(rows, queries.unit_codes(work.db))
    else:
        rows, more = importer.check_members(rows, queries.employee_nos(work.db),
                                            queries.unit_codes(work.db, open_only=True))
    problems = list(problems) + list(more)
    bad_lines = {p.line for p in problems}
    apply = _import_unit if kind == "units" else _import_member
    counts = {"created": 0, "updated": 0}
    # One savepoint for the whole file (rolled back on a dry run or any problem), one per
    # row so that a row the database refuses is reported and the next rows still checked.
    everything = work.db.begin_nested()
    for row in rows:
        if row.line in bad_lines:
            continue
        savepoint = work.db.begin_nested()
        try:
            outcome = apply(work, row.values)
            savepoint.commit()
            counts[outcome] += 1
        except GonghuiError as exc:
            savepoint.rollback()
            problems.append(importer.Problem(row.line, str(exc)))
    valid = not problems
    if dry_run or not valid:
        everything.rollback()
    else:
        everything.commit()
    applied = valid and not dry_run
    return {"kind": kind, "dry_run": dry_run, "rows": len(rows), "valid": valid,
            "created": counts["created"] if applied else 0,
            "updated": counts["updated"] if applied else 0,
            "problems": sorted(problems)}


def _import_unit(work, values):
    parent_id = queries.unit_id_by_code(work.db, values.get("parent_code"))
    if values["existing"]:
        unit = queries.unit_by_code(work.db, values["code"])
        if unit.name != values["name"]:
            tree.rename_unit(work, unit.id, values["name"])
        if parent_id and unit.parent_id != parent_id:
            tree.move_unit(work, unit.id, parent_id)
        outcome = "updated"
    else:
        unit = tree.create_unit(work, values["code"], values["name"], values["kind"],
                                values.get("domain"), parent_id, values.get("established_on"))
        outcome = "created"
    if values.get("union_level") and queries.open_union(work.db, unit.id) is None:
        tree.establish_union(work, unit.id, values["union_level"], values["union_name"],
                             values.get("established_on") or today())
    return outcome


def _import_member(work, values):
    unit_id = queries.unit_id_by_code(work.db, values["unit_code"])
    fields = {k: values.get(k) for k in ("name", "email", "mobile", "wecom_id")}
    if values["existing"]:
        member = queries.member_by_employee_no(work.db, values["employee_no"])
        members.update_member(work, member.id, unit_id=unit_id, **fields)
        return "updated"
    members.add_member(work, values["employee_no"], values["name"], values["gender"], unit_id,
                       values.get("email"), values.get("mobile"), values.get("wecom_id"),
                       values["joined_on"])
    return "created"


def export_file(session, kind, file_format):
    codes = queries.codes_by_unit_id(session)
    if kind == "units":
        unions = queries.open_unions_by_unit(session)
        records = [{"code": u.code, "name": u.name, "kind": u.kind, "domain": u.domain,
                    "parent_code": codes.get(u.parent_id), "established_on": u.established_on,
                    "union_level": unions[u.id].level if u.id in unions else None,
                    "union_name": unions[u.id].name if u.id in unions else None}
                   for u in queries.open_units(session)]
    else:
        records = [{"employee_no": m.employee_no, "name": m.name, "gender": m.gender,
                    "unit_code": codes[m.unit_id], "email": m.email, "mobile": m.mobile,
                    "wecom_id": m.wecom_id, "joined_on": m.joined_on}
                   for m in queries.current_members(session)]
    content = importer.write_rows(kind, file_format, records)
    return {"kind": kind, "file_format": file_format, "rows": len(records),
            "content_base64": base64.b64encode(content).decode()}
