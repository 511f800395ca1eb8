"""The gateway's own operations, run like any route's RPC (``gateway.<name>`` in the route
tables): logging in and out, who am I, the first password, one-time codes, API tokens and
platform grants. Each validates its arguments with its schema and dumps its result, as the
services' RPCs do."""

from sqlalchemy import select
from werkzeug.wrappers import Response

from gonghui.audit import record_change
from gonghui.directory import DirectoryMember
from gonghui.entrypoints import load_arguments
from gonghui.errors import NotFound, ValidationError
from gonghui.schemas import shared
from services.gateway import accounts, identity
from services.gateway import schemas as s
from services.gateway.models import Account, ApiToken

OPERATIONS = {}


def operation(args, result=None, many=False):
    def register(fn):
        def run(exchange, actor, given):
            value = fn(exchange, actor, **load_arguments(args, (), given))
            if result is None or isinstance(value, Response):
                return value
            return shared(result).dump(value, many=many)

        run.args, run.result = args, result
        OPERATIONS[fn.__name__] = run
        return fn

    return register


def call(operation_name, exchange, actor, given):
    return OPERATIONS[operation_name](exchange, actor, given)


def _member_by_login(db, login):
    """The employee number a login names: itself, or the member's whose mobile it is."""
    if login.isdigit() and len(login) == 11:
        found = db.scalar(select(DirectoryMember.employee_no).where(
            DirectoryMember.mobile == login))
        if found:
            return found
    return login


@operation(s.Login, s.SessionOut)
def login(exchange, actor, login, password):
    db, address = exchange.db, identity.client_address(
        exchange.http, exchange.settings.get("TRUSTED_PROXIES"))
    employee_no = _member_by_login(db, login)
    accounts.check_rate(db, employee_no, address)
    try:
        account = accounts.check_password(db, employee_no, password)
    except accounts.NotAuthenticated:
        accounts.record_attempt(db, employee_no, address, False)
        exchange.keep_changes = True  # the failure counts even though the request fails
        raise
    accounts.record_attempt(db, employee_no, address, True)
    opened = accounts.open_session(db, account, address)
    exchange.set_cookies.append((identity.SESSION_COOKIE, opened.cookie, True))
    exchange.set_cookies.append((identity.CSRF_COOKIE, opened.csrf_token, False))
    return {"employee_no": account.employee_no, "csrf_token": opened.csrf_token,
            "expires_at": opened.expires_at}


@operation(s.NoArguments)
def logout(exchange, actor):
    if exchange.web_session is None:
        raise ValidationError("no session to end", {"_session": ["not logged in by cookie"]})
    accounts.revoke_session(exchange.db, exchange.web_session)
    exchange.clear_cookies.extend([identity.SESSION_COOKIE, identity.CSRF_COOKIE])
    return Response(status=204)


@operation(s.NoArguments, s.Me)
def me(exchange, actor):
    principal = exchange.principal
    name = None
    if principal.member_id is not None:
        member = exchange.db.get(DirectoryMember, principal.member_id)
        name = member.name if member is not None else None
    return {"kind": principal.kind, "employee_no": principal.employee_no,
            "member_id": principal.member_id, "unit_id": principal.unit_id, "name": name,
            "is_admin": principal.is_admin, "is_auditor": principal.is_auditor,
            "office_units": sorted(principal.office_units),
            "token_access": principal.token_access, "token_unit": principal.token_unit}


@operation(s.SetPassword)
def set_password(exchange, actor, employee_no, code, password):
    db, address = exchange.db, identity.client_address(
        exchange.http, exchange.settings.get("TRUSTED_PROXIES"))
    accounts.check_rate(db, employee_no, address)
    try:
        accounts.set_password_with_code(db, employee_no, code, password)
    except accounts.NotAuthenticated:
        accounts.record_attempt(db, employee_no, address, False)
        exchange.keep_changes = True
        raise
    return Response(status=204)


@operation(s.IssueCode, s.CodeOut)
def issue_code(exchange, actor, member_id):
    member = exchange.db.get(DirectoryMember, member_id)
    if member is None or not member.employee_no:
        raise NotFound(f"member {member_id} not found", {"member_id": ["not found"]})
    code, expires = accounts.issue_code(exchange.db, member.employee_no, str(actor))
    record_change(exchange.db, actor, "gateway.login_code_issued", ("member", member_id),
                  {"employee_no": member.employee_no})
    return {"employee_no": member.employee_no, "code": code, "expires_at": expires}


@operation(s.NoArguments, s.TokenOut, many=True)
def list_tokens(exchange, actor):
    return exchange.db.scalars(select(ApiToken).order_by(ApiToken.id)).all()


@operation(s.CreateToken, s.NewTokenOut)
def create_token(exchange, actor, name, access, unit_id):
    row, secret = accounts.create_token(exchange.db, name, access, unit_id, str(actor))
    record_change(exchange.db, actor, "gateway.token_created", ("api_token", row.id),
                  {"name": name, "access": access, "unit_id": unit_id})
    fields = shared(s.TokenOut).fields
    return {**{name: getattr(row, name) for name in fields}, "token": secret}


@operation(s.TokenId, s.TokenOut)
def revoke_token(exchange, actor, token_id):
    row = accounts.revoke_token(exchange.db, token_id)
    record_change(exchange.db, actor, "gateway.token_revoked", ("api_token", token_id), {})
    return row


@operation(s.Grant, s.AccountOut)
def grant(exchange, actor, employee_no, is_admin, is_auditor):
    account = accounts.account_for(exchange.db, employee_no, create=True)
    changes = {}
    for name, value in (("is_admin", is_admin), ("is_auditor", is_auditor)):
        if value is not None and getattr(account, name) != value:
            setattr(account, name, value)
            changes[name] = value
    if changes:
        record_change(exchange.db, actor, "gateway.account_granted", ("account", employee_no),
                      changes)
    return account


@operation(s.NoArguments, s.AccountOut, many=True)
def list_accounts(exchange, actor):
    return exchange.db.scalars(select(Account).order_by(Account.employee_no)).all()
