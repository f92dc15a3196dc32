"""``python -m dashboards RUN [RUN2 ...|FOLDER] [--port 8050] [--host 127.0.0.1] [--debug]``."""

from __future__ import annotations

import argparse
import logging
import sys

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
                     help="address to listen on (default 127.0.0.1: this machine only; 0.0.0.0 shares it)")
    cli.add_argument("--debug", action="store_true", help="Dash debug mode (reloader, error pop-ups)")
    return cli


def main(argv: list[str] | None = None) -> int:
    """Open the studies and serve the dashboard; exit code 2 for a bad run directory."""
    args = parser().parse_args(argv)
    logs.configure()
    from dashboards.app import create_app

    try:
        app = create_app(args.runs)
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"dashboard: http://{args.host}:{args.port}/ (Ctrl+C stops it)", flush=True)
    app.run(host=args.host, port=args.port, debug=args.debug)
    return 0


if __name__ == "__main__":
    sys.exit(main())
