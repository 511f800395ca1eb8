"""The demo's logins: one person of the demo union (``deploy/demo/organization.py``) for each
role the gateway knows (issue 12), each with the demo password, so that the API can be tried
at once, in a browser or with curl:

- the company union's administrator (everything): XN0001, chair of 新型能源公司工会;
- a grassroots union's chair (their union's subtree only): XN0007, chair of 机关工会 (公司机关);
- a member (their own data and acts): XN0012, a member of 机关工会 with no office;
- an auditor (reads everything, the audit trail included; writes nothing): XN0006, of the
  company's own unit, with no office.

Loaded as an operator would make them (``gonghui accounts``), through the gateway's
operators' RPCs: the grants, then the password set directly, which the gateway allows only
where its ``DEMO_LOGINS`` setting is on (``gonghui up`` turns it on for its stack). Loading
twice changes nothing: a person who has a password already keeps it.
"""

from deploy.demo.organization import demo_plan

# A demo's password, printed by `gonghui up`: never a real stack's (DEMO_LOGINS is off there).
DEMO_PASSWORD = "Gonghui-demo-2021"

# (role, employee number, the access an operator grants, what the person is in the union)
LOGINS = [
    ("company-union administrator", "XN0001", "admin", "新型能源公司工会主席"),
    ("grassroots-union chair", "XN0007", None, "机关工会主席"),
    ("member", "XN0012", None, "机关工会会员"),
    ("auditor", "XN0006", "auditor", "公司本部职工"),
]


def logins():
    """The demo's logins as ``gonghui up`` prints them (names from the demo's plan)."""
    names = {m["employee_no"]: m["name"] for m in demo_plan()[1]}
    return [{"role": role, "login": employee_no, "password": DEMO_PASSWORD,
             "name": names[employee_no], "what": what}
            for role, employee_no, _, what in LOGINS]


def load_demo(proxy):
    """Grant and set what is missing through ``proxy.gateway``; returns how many passwords
    and grants it set now and the logins. The gateway's refusal (``Forbidden``: its
    DEMO_LOGINS is off) reaches the caller."""
    gateway = proxy.gateway
    known = {a["employee_no"]: a for a in gateway.accounts()}
    grants = passwords = 0
    for _, employee_no, access, _ in LOGINS:
        account = known.get(employee_no, {})
        if access and not account.get(f"is_{access}"):
            gateway.grant_access(employee_no=employee_no, access=access)
            grants += 1
        if not account.get("password_set_at"):
            gateway.demo_set_password(employee_no=employee_no, password=DEMO_PASSWORD)
            passwords += 1
    return {"grants": grants, "passwords": passwords, "logins": logins()}
