"""``python -m dashboards RUN [RUN2 ...|FOLDER] [--port 8050] [--host 127.0.0.1] [--password-file FILE]
[--no-auth] [--threads 8] [--debug] [-v]``."""

from __future__ import annotations

import argparse
import logging
import sys

from dashboards import access
from trainers.common import logs
from trainers.common.errors import DataError

log = logging.getLogger("dashboards")


def parser() -> argparse.ArgumentParser:
    """The command-line options."""
    cli = argparse.ArgumentParser(prog="python -m dashboards", description=(
        "Browse studies in the browser: accuracy, classes, statistics, embeddings and the attention audit. "
        "Reads RUN/analysis/ (written by python -m interp.analyze RUN); never trains or attributes."))
    cli.add_argument("runs", nargs="+", metavar="RUN", help="run directories (runs/NAME) or folders of runs")
    cli.add_argument("--port", type=int, default=8050, help="port (default 8050)")
    cli.add_argument("--host", default="127.0.0.1",
                     help="address to listen on (default 127.0.0.1: this machine only; 0.0.0.0 shares it "
                          f"and then needs {access.OPTIONS}, or --no-auth)")
    secret = cli.add_mutually_exclusive_group()
    secret.add_argument("--password-file", metavar="FILE",
                     help=f"ask viewers for the password on FILE's first line (any user name); default: "
                          f"${access.PASSWORD_ENV} when set")
    secret.add_argument("--no-auth", action="store_true",
                     help="serve a non-loopback --host without a password (only on a network you trust)")
    cli.add_argument("--threads", type=int, default=8, help="worker threads of the WSGI server (default 8)")
    cli.add_argument("--debug", action="store_true",
                     help="Flask's development server in Dash debug mode (reloader, error pop-ups) instead of "
                          "the production server")
    logs.add_verbose_flag(cli)
    return cli


def main(argv: list[str] | None = None) -> int:
    """Open the studies and serve the dashboard; exit code 2 for a bad run directory or a shared host
    without a password."""
    args = parser().parse_args(argv)
    logs.configure(args.verbose)
    if args.threads < 1:
        print(f"error: --threads {args.threads}: give at least 1", file=sys.stderr)
        return 2
    try:
        secret = None if args.no_auth else access.read_secret(args.password_file)
        access.check_exposure(args.host, secret, args.no_auth)
        from dashboards.app import create_app

        app = create_app(args.runs)
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    access.protect(app, secret)
    host = f"[{args.host}]" if ":" in args.host else args.host
    print(f"dashboard: http://{host}:{args.port}/ (Ctrl+C stops it)", flush=True)
    if args.debug:
        app.run(host=args.host, port=args.port, debug=True)
    else:
        import waitress

        waitress.serve(app.server, host=args.host, port=args.port, threads=args.threads, ident="maskfer")
    return 0


if __name__ == "__main__":
    sys.exit(main())
