"""The gateway's own routes: sessions, the first password, one-time codes, API tokens,
platform grants."""

from services.gateway import schemas as s
from services.gateway.policy import ADMIN, OFFICE, PUBLIC, SIGNED_IN
from services.gateway.routing import member_unit, read, write

TAG = "accounts"

ROUTES = [
    write("POST", "/session", "gateway.login", PUBLIC, args=s.Login, result=s.SessionOut,
          status=201, tag=TAG, summary="Log in (sets the session and CSRF cookies)"),
    write("DELETE", "/session", "gateway.logout", SIGNED_IN, args=s.NoArguments, status=204,
          tag=TAG, summary="Log out (ends the session)"),
    read("/me", "gateway.me", SIGNED_IN, args=s.NoArguments, result=s.Me, tag=TAG,
         summary="Who I am: my membership, my offices, my grants"),
    write("POST", "/password", "gateway.set_password", PUBLIC, args=s.SetPassword,
          status=204, tag=TAG, summary="Set my password with the one-time code an officer "
          "gave me"),
    write("POST", "/members/<int:member_id>/login-code", "gateway.issue_code", OFFICE,
          unit=member_unit("member_id"), args=s.IssueCode, result=s.CodeOut, status=201,
          tag=TAG, summary="Issue a member a one-time code to set their password"),
    read("/tokens", "gateway.list_tokens", ADMIN, args=s.NoArguments, result=s.TokenOut,
         many=True, tag=TAG, summary="API tokens"),
    write("POST", "/tokens", "gateway.create_token", ADMIN, args=s.CreateToken,
          result=s.NewTokenOut, status=201, tag=TAG,
          summary="Create an API token (shown once)"),
    write("DELETE", "/tokens/<int:token_id>", "gateway.revoke_token", ADMIN, args=s.TokenId,
          result=s.TokenOut, tag=TAG, summary="Revoke an API token"),
    read("/accounts", "gateway.list_accounts", ADMIN, args=s.NoArguments,
         result=s.AccountOut, many=True, tag=TAG, summary="Accounts and their grants"),
    write("PUT", "/accounts/<employee_no>/grants", "gateway.grant", ADMIN, args=s.Grant,
          result=s.AccountOut, tag=TAG, summary="Make an account an administrator or an "
          "auditor (or not)"),
]
