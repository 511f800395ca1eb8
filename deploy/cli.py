"""gonghui: what operators do, in one command. The commands are listed below.

Where it connects:
  GONGHUI_AMQP_URI   the broker as the operator user (amqp://user:password@host:port/vhost);
                     default: the local runner's operator user and vhost (`gonghui up`)
  HOLIDAYS_DIR       where `holidays load` stores a year (default deploy/holidays)
  DATABASE_URL       `migrate` only
  WEB_SERVER_ADDRESS `health` only: host:port of the service's /health (default: its port)

The first people who log in to the gateway (the HTTP API) are made here: `gonghui accounts
grant admin EMPLOYEE_NO`, then `gonghui accounts code EMPLOYEE_NO` prints the one-time code
with which that person sets their password (POST /api/v1/password).
"""

import warnings

# nameko imports eventlet, which warns at import that it is deprecated (see README).
warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")

import argparse  # noqa: E402
import base64  # noqa: E402
import functools  # noqa: E402
import getpass  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
import textwrap  # noqa: E402
from datetime import timedelta  # noqa: E402
from pathlib import Path  # noqa: E402

from deploy.services import SERVICES, service  # noqa: E402

OPERATOR = "operator:cli"


def _operator_uri():
    if os.environ.get("GONGHUI_AMQP_URI"):
        return os.environ["GONGHUI_AMQP_URI"]
    from deploy.runner import Runner
    return Runner().operator_amqp_uri()


def masked_uri(uri):
    """``amqp://operator:…@127.0.0.1:5672/gonghui``: a broker URI fit to print, the password
    replaced by an ellipsis as `gonghui up` prints it."""
    scheme, sep, rest = uri.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not sep or not at or ":" not in credentials:
        return uri
    return f"{scheme}://{credentials.split(':', 1)[0]}:…@{host}"


def _rpc(timeout=60):
    from gonghui.rpc_client import cluster_rpc
    return cluster_rpc(_operator_uri(), actor=OPERATOR, timeout=timeout)


def _print(value):
    print(json.dumps(value, ensure_ascii=False, indent=2, default=str))


def cmd_start(args):
    from deploy import runner
    _print(runner.start(services=args.services or None))


def cmd_stop(args):
    from deploy import runner
    _print(runner.stop())


def cmd_status(args):
    from deploy import runner
    _print(runner.status())


def cmd_logs(args):
    from deploy import runner
    result = runner.logs(args.service, lines=args.lines, follow=args.follow)
    if isinstance(result, str):
        print(result)


# The services keeping the kit's read model of the union tree (gonghui/directory.py).
READ_MODELS = ("deeds", "notifications", "activities", "gateway")
# What `gonghui demo` loads, in this order (organization first: the others use its people).
DEMO_PARTS = ("organization", "deeds", "activities", "accounts")


def _wait_for_read_models(proxy, timeout=15):
    """Deeds, notifications, activities and the gateway learn the union tree from
    organization's events.
    Events sent before their queues were first declared (a stack started before they
    existed) never reach them: after a short wait, a full resync by RPC brings them up to
    date. Caught up: the same members and roles held today as organization counts."""
    import time
    wanted = proxy.organization.directory_status()
    running = [name for name in READ_MODELS if name in {s.name for s in SERVICES}]
    deadline = time.monotonic() + timeout
    for name in running:
        consumer = getattr(proxy, name)
        while True:
            held = consumer.directory_status()
            if held["members"] >= wanted["members"] and held["roles"] >= wanted["roles"]:
                break
            if time.monotonic() > deadline:
                consumer.resync_directory()
                break
            time.sleep(0.5)


def cmd_demo(args):
    from deploy.demo import accounts as demo_accounts
    from deploy.demo import activities as demo_activities
    from deploy.demo import deeds as demo_deeds
    from deploy.demo import organization as demo_organization
    loaders = {"organization": demo_organization, "deeds": demo_deeds,
               "activities": demo_activities, "accounts": demo_accounts}
    parts = [p for p in DEMO_PARTS if p in (args.parts or DEMO_PARTS)]
    result = {}
    with _rpc(timeout=600) as proxy:
        for part in parts:
            result[part] = loaders[part].load_demo(proxy)
            if part == "organization":
                _wait_for_read_models(proxy)
    _print(result)


def _demo_logins(proxy):
    """The demo's logins (deploy/demo/accounts.py), or None when the gateway refuses to set
    passwords (a stack started without DEMO_LOGINS)."""
    from deploy.demo import accounts as demo_accounts
    from gonghui.errors import Forbidden
    try:
        return demo_accounts.load_demo(proxy)["logins"]
    except Forbidden:
        return None


def _print_gateway(gateway_url, logins):
    print(f"\nIn a browser: {gateway_url}/ (工作台 for officers, a member's own page; log in "
          "with a login below)"
          f"\nThe API: {gateway_url}/api/v1/docs, its reference;"
          f"\n  the OpenAPI document {gateway_url}/api/v1/openapi.json")
    if logins is None:
        print("Demo logins: not set — this stack was started without DEMO_LOGINS=true, so the "
              "gateway refuses to set passwords directly. `gonghui stop` then `gonghui up`, "
              "or give a person a one-time code: `gonghui accounts code XN0007`.")
        return
    print(f"Demo logins (password {logins[0]['password']} for each, unless changed since):")
    for login in logins:
        print(f"  {login['role']:<28} {login['login']}  {login['name']}（{login['what']}）")
    first = next(x for x in logins if x["role"] == "grassroots-union chair")
    print(f"  curl -c var/cookies -H 'Content-Type: application/json' -d "
          f"'{{\"login\": \"{first['login']}\", \"password\": \"{first['password']}\"}}' "
          f"{gateway_url}/api/v1/session")
    print(f"  curl -b var/cookies {gateway_url}/api/v1/me")


def cmd_up(args):
    from deploy import runner
    from deploy.demo import activities as demo_activities
    from deploy.demo import deeds as demo_deeds
    # The demo union lives on the article's date: its services' business date stays there
    # (gonghui.clock.today), so the hourly timers never tick 2021's data into today's
    # calendar. Carry the demo on by hand with `gonghui tick`; GONGHUI_TODAY= (empty) runs a
    # stack on the real calendar.
    os.environ.setdefault("GONGHUI_TODAY", demo_deeds.ARTICLE_DATE.isoformat())
    # The demo's people log in to the gateway with the demo password (deploy/demo/accounts.py),
    # which only a gateway with DEMO_LOGINS on lets an operator set.
    os.environ.setdefault("DEMO_LOGINS", "true")
    state = runner.start()
    from deploy.demo.organization import load_demo
    with _rpc(timeout=600) as proxy:
        demo = load_demo(proxy)
        coverage = proxy.organization.coverage_report()
        _wait_for_read_models(proxy)
        demo_deeds.load_demo(proxy)
        figures = proxy.deeds.figures(year=demo_deeds.YEAR)
        demo_activities.load_demo(proxy)
        headline = proxy.activities.figures(
            date_from=f"{demo_activities.YEAR}-01-01",
            date_to=demo_activities.ARTICLE_DATE.isoformat())["headline"]
        logins = _demo_logins(proxy)
    uri = _operator_uri()
    if state.get("already_running"):  # start() then reports the status instead
        state["services"] = {name: {**info, "url": f"http://127.0.0.1:{info['http_port']}"}
                             for name, info in state.get("services", {}).items()}
    print("Gonghui is running.\n")
    for name, info in sorted((state.get("services") or {}).items()):
        print(f"  {name:<14} pid {info.get('pid')}  health {info['url']}/health")
    sink = state.get("mail_sink")
    if sink:
        print(f"\nE-mail goes to the local mail sink (SMTP {sink['smtp']}): one file per "
              f"message in {sink['maildir']}/new/")
    print(f"\nDemo data: {'loaded' if demo['created'] else 'already there'} — "
          f"{coverage['units']} units, {coverage['units_with_union']} with a union, "
          f"{coverage['members']} members.")
    tracks = {}
    for row in figures:
        for track, count in row["tracks"].items():
            tracks[track] = tracks.get(track, 0) + count
    print(f"Deeds (我为群众办实事) replayed to {demo_deeds.ARTICLE_DATE}: "
          f"{sum(tracks.values())} items — " + ", ".join(f"{k} {v}" for k, v in tracks.items()))
    print(f"Campaigns (全民健康/全民健身/全民阅读) to {demo_activities.ARTICLE_DATE}: "
          + ", ".join(f"{k} {v}" for k, v in headline.items()))
    business_date = os.environ.get("GONGHUI_TODAY")
    if state.get("already_running"):
        print("The stack was already running: its business date is the one it started with.")
    elif business_date:
        print(f"Business date of this stack: {business_date} (GONGHUI_TODAY; the timers tick "
              f"that day only, so the demo stays as the article tells it).")
    gateway = (state.get("services") or {}).get("gateway")
    if gateway:
        _print_gateway(gateway["url"], logins)
    print(f"\nBroker: {masked_uri(uri)}   management UI: http://127.0.0.1:15672/")
    print("\nTry it:")
    print("  .venv/bin/gonghui status")
    print("  .venv/bin/gonghui logs organization")
    print("  .venv/bin/gonghui shell      # nameko shell as the operator, then:")
    print("    >>> n.rpc.organization.coverage_report()")
    print("    >>> n.rpc.organization.recipients(unit_id=2, role='chair')")
    print("    >>> n.rpc.deeds.ledger(track='under_supervision')")
    print("    >>> n.rpc.activities.figures(date_from='2021-01-01', date_to='2021-08-30')")
    print("    >>> n.rpc.activities.campaign_progress(campaign_id=1, as_of='2021-08-30')")
    print("  .venv/bin/gonghui export ledger var/ledger-2021.xlsx --year 2021   "
          "# the printable 台账")
    print("  .venv/bin/gonghui tick deeds --from 2021-08-31 --to 2021-12-31")
    print("  .venv/bin/gonghui stop")


def cmd_shell(args):
    """nameko shell connected as the operator user (reads; writes need the CLI's actor).

    nameko's own ``nameko shell`` prints the whole broker URI in its banner, password
    included; this is the same shell with the password masked."""
    from nameko.cli.shell import ShellRunner, make_nameko_helper
    uri = _operator_uri()
    banner = (f"Nameko Python {sys.version} shell on {sys.platform}\n"
              f"Broker: {masked_uri(uri)} (the operator user)")
    helper = make_nameko_helper({"AMQP_URI": uri, "serializer": "json"})
    try:
        ShellRunner(banner, {"n": helper}).start_shell(name=None)
    finally:
        helper.disconnect()


def cmd_deliveries(args):
    """The notifications that stayed failed (dead-lettered), and replaying them."""
    if args.action != "dead" and not args.ids:
        print(f"gonghui deliveries {args.action}: name the delivery ids", file=sys.stderr)
        return 2
    with _rpc() as proxy:
        notifications = proxy.notifications
        if args.action == "dead":
            _print(notifications.list_dead_deliveries(limit=args.limit))
        elif args.action == "show":
            for delivery_id in args.ids:
                _print(notifications.get_delivery(delivery_id=delivery_id))
        else:
            _print([notifications.replay_delivery(delivery_id=i) for i in args.ids])


def cmd_accounts(args):
    """The gateway's accounts: administrators, auditors, one-time codes, a demo's passwords."""
    with _rpc() as proxy:
        gateway = proxy.gateway
        if args.action == "list":
            _print(gateway.accounts())
        elif args.action in ("grant", "revoke"):
            change = gateway.grant_access if args.action == "grant" else gateway.revoke_access
            _print(change(employee_no=args.employee_no, access=args.access))
        elif args.action == "code":
            issued = gateway.issue_login_code(employee_no=args.employee_no)
            _print(issued)
            whom = issued["member_name"] or "nobody the union knows: check the number"
            print(f"{args.employee_no} ({whom}): this code is shown once (the gateway keeps "
                  f"only its hash) and works once, until {issued['expires_at']}; with it the "
                  "person sets their password: POST /api/v1/password "
                  '{"employee_no", "code", "password"}', file=sys.stderr)
        else:
            password = _read_password()
            if not password:
                print("gonghui accounts demo-password: no password on stdin", file=sys.stderr)
                return 2
            _print(gateway.demo_set_password(employee_no=args.employee_no, password=password))
    return 0


def _read_password():
    if sys.stdin.isatty():
        return getpass.getpass("password: ")
    return sys.stdin.readline().rstrip("\r\n")


def cmd_resync(args):
    """Rebuild a service's read model of the union tree from organization."""
    with _rpc(timeout=600) as proxy:
        _print(getattr(proxy, args.service).resync_directory())


def cmd_tick(args):
    from gonghui.clock import parse_date
    start, end = parse_date(args.start), parse_date(args.end or args.start)
    if end < start:
        print(f"gonghui tick: --to {end} is before --from {start}", file=sys.stderr)
        return 2
    totals, days = {}, 0
    with _rpc() as proxy:
        target = getattr(proxy, args.service)
        day = start
        while day <= end:
            result = target.tick(as_of=day.isoformat())
            days += 1
            for key, value in result.items():
                if isinstance(value, int):
                    totals[key] = totals.get(key, 0) + value
            day += timedelta(days=1)
    _print({"service": args.service, "from": start, "to": end, "days": days,
            "totals": totals})
    return 0


def cmd_import(args):
    path = Path(args.file)
    fmt = "xlsx" if path.suffix.lower() == ".xlsx" else "csv"
    try:
        content = path.read_bytes()
    except OSError as exc:
        print(f"gonghui import: cannot read {path}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    with _rpc(timeout=600) as proxy:
        result = proxy.organization.import_file(
            kind=args.kind, file_format=fmt, dry_run=not args.apply,
            content_base64=base64.b64encode(content).decode())
    _print(result)
    for problem in result["problems"]:
        print(f"{path}: line {problem['line']}: {problem['reason']}", file=sys.stderr)
    if not result["valid"]:
        print(f"{path}: {len(result['problems'])} problems, nothing imported", file=sys.stderr)
    elif not args.apply:
        print(f"{path}: dry run, nothing imported; --apply to import", file=sys.stderr)
    return 0 if result["valid"] else 1


def cmd_export(args):
    path = Path(args.file)
    if args.kind == "ledger":
        return _export_ledger(args, path)
    fmt = "xlsx" if path.suffix.lower() == ".xlsx" else "csv"
    with _rpc(timeout=600) as proxy:
        result = proxy.organization.export_file(kind=args.kind, file_format=fmt)
    path.write_bytes(base64.b64decode(result["content_base64"]))
    print(f"wrote {result['rows']} {args.kind} to {path}")


def _export_ledger(args, path):
    if path.suffix.lower() != ".xlsx":
        print(f"the ledger is an Excel workbook: name the file *.xlsx, not {path.name}",
              file=sys.stderr)
        return 2
    with _rpc(timeout=600) as proxy:  # a federation's detailed year can take a minute
        result = proxy.deeds.export_ledger(year=args.year, details=not args.items_only)
    path.write_bytes(base64.b64decode(result["content_base64"]))
    details = ("" if args.items_only else
               f", {result['reports']} monthly reports, {result['supervision_orders']} "
               f"supervision orders and {result['objections']} objections")
    print(f"wrote the ledger of {result['rows']} items{details} to {path}")
    return 0


def cmd_holidays(args):
    from gonghui.calendar import HolidayFileError, WorkingCalendar
    calendar = WorkingCalendar(os.environ.get("HOLIDAYS_DIR", "deploy/holidays"))
    if args.action == "status":
        _print(calendar.status(int(args.arg)))
        return 0
    try:
        year = calendar.load_year(args.arg)
    except HolidayFileError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"loaded {year.year}: {len(year.holidays)} holidays, {len(year.workdays)} "
          "make-up working days")
    return 0


def cmd_migrate(args):
    from gonghui.migrations import migrate
    url = os.environ.get("DATABASE_URL")
    if not url:
        print("DATABASE_URL is not set", file=sys.stderr)
        return 2
    migrate(args.service, url)
    print(f"{args.service}: migrated")
    return 0


def cmd_broker_setup(args):
    from deploy.broker import apply_from_env
    _print(apply_from_env())


def cmd_health(args):
    import requests
    address = os.environ.get("WEB_SERVER_ADDRESS", f"127.0.0.1:{service(args.service).http_port}")
    host, _, port = address.rpartition(":")
    host = "127.0.0.1" if host in ("0.0.0.0", "") else host
    try:
        response = requests.get(f"http://{host}:{port}/health", timeout=5)
    except requests.RequestException as exc:
        print(f"{args.service}: unreachable ({exc})", file=sys.stderr)
        return 1
    print(response.text)
    try:
        warnings_ = response.json().get("warnings") or []
    except (ValueError, AttributeError):
        warnings_ = []
    for warning in warnings_:  # they leave the service healthy: the exit status stays 0
        print(f"{args.service}: warning: {warning.get('message')}", file=sys.stderr)
    return 0 if response.status_code == 200 else 1


def _demo_part(text):
    # (argparse's choices refuse an empty list given to nargs="*" on Python 3.11)
    if text not in DEMO_PARTS:
        raise argparse.ArgumentTypeError(f"{text!r}: one of {', '.join(DEMO_PARTS)}")
    return text


# A command's synopsis in `gonghui --help` is its own usage line, on one line.
_ONE_LINE_USAGE = functools.partial(argparse.HelpFormatter, width=1000)


def parser():
    p = argparse.ArgumentParser(prog="gonghui", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND",
                           help="one of the commands below (gonghui COMMAND -h for its help)")
    names = [s.name for s in SERVICES]
    commands = []

    def command(name, func, what):
        command_parser = sub.add_parser(name, description=what,
                                        formatter_class=_ONE_LINE_USAGE)
        command_parser.set_defaults(func=func)
        commands.append((command_parser, what))
        return command_parser

    command("up", cmd_up, "start the whole stack locally, load the demo data and the demo's "
            "logins, print the API's address and the logins")
    start = command("start", cmd_start, "start the local runner (deploy/runner.py)")
    start.add_argument("services", nargs="*", metavar="SERVICE",
                       help=f"default: all of {', '.join(names)}")
    command("stop", cmd_stop, "stop the local runner")
    command("status", cmd_status, "processes, restarts, health of each service")
    logs = command("logs", cmd_logs, "a service's log (or the runner's own)")
    logs.add_argument("service", choices=names + ["supervisor"])
    logs.add_argument("-n", "--lines", type=int, default=50)
    logs.add_argument("-f", "--follow", action="store_true")
    demo = command("demo", cmd_demo, "load the article's union and the demo's logins "
                   "(idempotent)")
    demo.add_argument("parts", nargs="*", type=_demo_part,
                      metavar="{" + ",".join(DEMO_PARTS) + "}",
                      help="default: all of them (always loaded in this order)")
    command("shell", cmd_shell, "nameko shell connected as the operator (password masked)")
    deliveries = command("deliveries", cmd_deliveries,
                         "notifications that stayed failed (dead-lettered); replay them")
    deliveries.add_argument("action", choices=["dead", "show", "replay"])
    deliveries.add_argument("ids", nargs="*", type=int, metavar="ID",
                            help="delivery ids (show, replay)")
    deliveries.add_argument("--limit", type=int, default=100)
    resync = command("resync", cmd_resync,
                     "rebuild a service's read model of the union tree from organization")
    resync.add_argument("service", choices=[n for n in READ_MODELS if n in names])
    tick = command("tick", cmd_tick, "replay the daily work for every day of a range "
                   "(running a day twice changes nothing)")
    tick.add_argument("service", choices=[s.name for s in SERVICES if s.ticks])
    tick.add_argument("--from", dest="start", required=True, metavar="DATE")
    tick.add_argument("--to", dest="end", metavar="DATE", help="default: the --from day")
    imp = command("import", cmd_import, "units or members from .xlsx or .csv; a dry run "
                  "reporting every bad row with its line unless --apply (all or nothing)")
    imp.add_argument("kind", choices=["units", "members"])
    imp.add_argument("file", metavar="FILE")
    imp.add_argument("--apply", action="store_true", help="write (default: dry run)")
    exp = command("export", cmd_export, "units or members in the import layout, or the "
                  "deeds ledger (台账) as .xlsx")
    exp.add_argument("kind", choices=["units", "members", "ledger"])
    exp.add_argument("file", metavar="FILE")
    exp.add_argument("--year", type=int, help="ledger: the lists of this year (default: all)")
    exp.add_argument("--items-only", action="store_true",
                     help="ledger: without the sheets of reports, orders and objections")
    accounts = command("accounts", cmd_accounts, "the gateway's accounts: list them; grant or "
                       "revoke administrator or auditor; a one-time code for an employee "
                       "number, printed once; on a demo stack (DEMO_LOGINS on) a password "
                       "set directly, read from stdin")
    actions = accounts.add_subparsers(dest="action", required=True)
    actions.add_parser("list", help="every account and its grants")
    for action in ("grant", "revoke"):
        change = actions.add_parser(action, help=f"{action} administrator or auditor")
        change.add_argument("access", choices=["admin", "auditor"])
        change.add_argument("employee_no", metavar="EMPLOYEE_NO")
    actions.add_parser("code", help="a one-time code to set a password with (printed once)"
                       ).add_argument("employee_no", metavar="EMPLOYEE_NO")
    actions.add_parser("demo-password", help="demo stacks only: set the password (stdin)"
                       ).add_argument("employee_no", metavar="EMPLOYEE_NO")
    hol = command("holidays", cmd_holidays, "the working-day calendar: load a year's public "
                  "holidays (CSV or holiday-cn JSON), or say where a year's come from")
    hol.add_argument("action", choices=["load", "status"])
    hol.add_argument("arg", metavar="FILE|YEAR", help="FILE for load, YEAR for status")
    mig = command("migrate", cmd_migrate,
                  "migrate a service's database (DATABASE_URL; compose uses it)")
    mig.add_argument("service", choices=names)
    command("broker-setup", cmd_broker_setup,
            "users, permissions, definitions (compose uses it)")
    health = command("health", cmd_health, "exit 0 when the service's /health says ok; "
                     "its warnings (next year's holidays not loaded) are printed, not failed")
    health.add_argument("service", choices=names)
    p.epilog = "commands:\n" + "\n".join(
        f"  {cp.format_usage().removeprefix('usage: ').replace(' [-h]', '').strip()}\n"
        + textwrap.fill(what, 90, initial_indent=" " * 6, subsequent_indent=" " * 6)
        for cp, what in commands)
    return p


def _one_line(error):
    """A remote error as one line: its code and message, and field messages if any."""
    from gonghui.errors import GonghuiError, ValidationError
    if isinstance(error, GonghuiError):
        text = f"{error.code}: {error.message}"
        if isinstance(error, ValidationError) and error.details:
            text += f" {json.dumps(error.details, ensure_ascii=False)}"
    else:
        text = f"{type(error).__name__}: {error}"
    return " ".join(text.split())


def main(argv=None):
    from nameko.exceptions import RemoteError

    from gonghui.errors import GonghuiError
    args = parser().parse_args(argv)
    try:
        return args.func(args) or 0
    except (GonghuiError, RemoteError) as exc:  # a refusal, not a crash: no traceback
        print(f"gonghui {args.command}: {_one_line(exc)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
