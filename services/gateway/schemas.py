"""Schemas of the gateway's own routes: logging in and out, the first password, one-time
codes, API tokens and platform grants. (The other routes use the services' schemas.)"""

from marshmallow import Schema, fields, validate

from gonghui.schemas import Arguments, Id, OneOf, Text


class Login(Arguments):
    login = Text(100, required=True, metadata={"description": "employee number (工号) or mobile"})
    password = fields.String(required=True, validate=validate.Length(min=1, max=200))


class SetPassword(Arguments):
    employee_no = Text(40, required=True)
    code = fields.String(required=True, validate=validate.Regexp(r"^\d{8}$",
                                                                  error="8 digits"))
    password = fields.String(required=True, validate=validate.Length(min=1, max=200))


class SessionOut(Schema):
    employee_no = fields.String()
    csrf_token = fields.String(metadata={"description": "send it back as X-CSRF-Token on "
                                         "every POST, PUT, PATCH and DELETE"})
    expires_at = fields.DateTime()


class Me(Schema):
    kind = fields.String(metadata={"description": "person, token or anonymous"})
    employee_no = fields.String(allow_none=True)
    member_id = fields.Integer(allow_none=True)
    unit_id = fields.Integer(allow_none=True)
    name = fields.String(allow_none=True)
    is_admin = fields.Boolean()
    is_auditor = fields.Boolean()
    office_units = fields.List(fields.Integer(), metadata={
        "description": "units whose union the person is an officer of (each a subtree)"})
    token_access = fields.String(allow_none=True)
    token_unit = fields.Integer(allow_none=True)


class IssueCode(Arguments):
    member_id = Id(required=True)


class CodeOut(Schema):
    employee_no = fields.String()
    code = fields.String(metadata={"description": "shown once; single use"})
    expires_at = fields.DateTime()


class CreateToken(Arguments):
    name = Text(100, required=True)
    access = OneOf(("read", "write"), required=True)
    unit_id = Id(load_default=None, allow_none=True,
                 metadata={"description": "limit to this unit's subtree; null: the whole tree"})


class TokenId(Arguments):
    token_id = Id(required=True)


class TokenOut(Schema):
    id = fields.Integer()
    name = fields.String()
    prefix = fields.String()
    access = fields.String()
    unit_id = fields.Integer(allow_none=True)
    created_by = fields.String()
    created_at = fields.DateTime()
    last_used_at = fields.DateTime(allow_none=True)
    revoked_at = fields.DateTime(allow_none=True)


class NewTokenOut(TokenOut):
    token = fields.String(metadata={"description": "shown once; send as Authorization: "
                                    "Bearer <token>"})


class Grant(Arguments):
    employee_no = Text(40, required=True)
    is_admin = fields.Boolean(load_default=None, allow_none=True)
    is_auditor = fields.Boolean(load_default=None, allow_none=True)


class AccountOut(Schema):
    employee_no = fields.String()
    is_admin = fields.Boolean()
    is_auditor = fields.Boolean()
    disabled = fields.Boolean()
    password_set_at = fields.DateTime(allow_none=True)


class NoArguments(Arguments):
    pass
