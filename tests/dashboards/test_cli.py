"""python -m dashboards: options and bad run directories (exit 2, no server started)."""

from __future__ import annotations

from dashboards.__main__ import main, parser


def test_defaults_bind_to_this_machine_only():
    args = parser().parse_args(["runs/a", "runs/b"])
    assert args.runs == ["runs/a", "runs/b"] and args.host == "127.0.0.1" and args.port == 8050 and not args.debug
    assert args.threads == 8 and args.password_file is None and not args.no_auth and not args.verbose
    assert parser().parse_args(["runs/a", "-v"]).verbose


def test_bad_run_directory_exits_2(tmp_path, capsys):
    assert main([str(tmp_path / "absent")]) == 2
    assert "no such run directory" in capsys.readouterr().err
    assert main([str(tmp_path)]) == 2
    assert "neither a run directory" in capsys.readouterr().err
