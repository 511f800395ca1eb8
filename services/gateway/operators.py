"""What operators do to the gateway's accounts, from the command line (``gonghui accounts``,
deploy/cli.py), through the RPCs of the operators' section of ``GatewayService``: make a
person an administrator or an auditor (or no longer), issue a one-time code for an employee
number (shown once), and, on a demo stack only, set a person's password directly. Each call
is audited under the operator who made it.

The first accounts come this way: nobody can log in before an operator has granted the
first administrator and issued them a code; from then on administrators grant and issue
codes over HTTP (``routes/gateway.py``). Only an operator's actor may call these RPCs.
"""

from marshmallow import fields, validate
from sqlalchemy import select

from gonghui.audit import record_change
from gonghui.directory import DirectoryMember
from gonghui.errors import Forbidden, NotFound
from gonghui.schemas import Arguments, OneOf, Text
from services.gateway import accounts
from services.gateway.models import Account
from services.gateway.schemas import CodeOut

OPERATOR_ONLY = ("operator",)
# What an operator grants, and the account's flag it sets.
ACCESS = {"admin": "is_admin", "auditor": "is_auditor"}
ON = (True, 1, "true", "True", "1", "yes")


class EmployeeNo(Arguments):
    employee_no = Text(40, required=True, metadata={
        "description": "the person's employee number (工号), their login"})


class AccessChange(EmployeeNo):
    access = OneOf(tuple(ACCESS), required=True, metadata={
        "description": "admin: the company union's administrator (everything); auditor: "
                       "reads everything, the audit trail included, and writes nothing"})


class DemoPassword(EmployeeNo):
    password = fields.String(required=True, validate=validate.Length(min=1, max=200),
                             metadata={"description": "the new password (never stored or "
                                                      "logged as such: argon2id)"})


class OperatorCodeOut(CodeOut):
    member_name = fields.String(allow_none=True, metadata={
        "description": "the member of the union with this employee number; null when the "
                       "gateway knows none (a typo, or a person who is not a member)"})


def list_accounts(db):
    return db.scalars(select(Account).order_by(Account.employee_no)).all()


def set_access(db, actor, employee_no, access, value):
    """Grant (``value`` True) or revoke an access; the account is made for a grant. Asking
    for what is already so changes nothing and records nothing."""
    account = accounts.account_for(db, employee_no, create=value)
    if account is None:
        raise NotFound(f"no account for {employee_no}", {"employee_no": ["no account"]})
    flag = ACCESS[access]
    if getattr(account, flag) != value:
        setattr(account, flag, value)
        record_change(db, actor, "gateway.account_granted", ("account", employee_no),
                      {flag: value})
    return account


def _member_name(db, employee_no):
    return db.scalar(select(DirectoryMember.name).where(
        DirectoryMember.employee_no == employee_no))


def issue_login_code(db, actor, employee_no):
    """A one-time code for the person to set their password with (``POST /api/v1/password``);
    earlier unused codes stop working. The code is in the answer only: it is kept hashed."""
    code, expires = accounts.issue_code(db, employee_no, str(actor))
    record_change(db, actor, "gateway.login_code_issued", ("account", employee_no),
                  {"employee_no": employee_no})
    return {"employee_no": employee_no, "code": code, "expires_at": expires,
            "member_name": _member_name(db, employee_no)}


def demo_set_password(db, actor, employee_no, password, enabled):
    """Set a person's password without them: only where the gateway's ``DEMO_LOGINS``
    setting is on (``gonghui up``'s demo stack). It issues a code and spends it at once, so
    the password is checked and stored, and the person's sessions end, exactly as when they
    set it themselves."""
    if enabled not in ON:
        raise Forbidden("setting a password directly is for demo stacks only (the gateway's "
                        "DEMO_LOGINS is off): issue a one-time code instead "
                        "(gonghui accounts code)", {"DEMO_LOGINS": ["off"]})
    code, _ = accounts.issue_code(db, employee_no, str(actor))
    account = accounts.set_password_with_code(db, employee_no, code, password)
    record_change(db, actor, "gateway.demo_password_set", ("account", employee_no), {})
    return account
