"""Who may open the dashboard: HTTP basic auth on every route once the server leaves this machine.

A study holds faces of real people, so listening on anything but a loopback address needs an access
secret: ``--password-file FILE`` or the environment variable :data:`PASSWORD_ENV`, unless ``--no-auth``
says explicitly that the network is trusted. The check is :class:`dash_auth.BasicAuth`'s ``before_request``
hook, which guards every route of the Flask server (pages, callbacks, component scripts, images). Any user
name is accepted; the password is compared in constant time. The secret is never logged or sent to the page.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
from pathlib import Path

import dash
import dash_auth

from trainers.common.errors import DataError

log = logging.getLogger(__name__)

PASSWORD_ENV = "MASKFER_DASHBOARD_PASSWORD"
OPTIONS = f"--password-file FILE or the environment variable {PASSWORD_ENV}"


def is_loopback(host: str) -> bool:
    """Whether ``host`` only listens on this machine (``localhost``, 127.0.0.0/8, ``::1``)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a host name other than localhost may resolve to any interface
        return False


def read_secret(password_file: str | Path | None, environ: dict[str, str] | None = None) -> str | None:
    """The access secret: the first line of ``password_file``, else :data:`PASSWORD_ENV`, else ``None``.

    Raises
    ------
    DataError
        When the file cannot be read or is empty.
    """
    if password_file is not None:
        path = Path(password_file)
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise DataError(f"--password-file {path}: cannot read it ({exc.__class__.__name__}); "
                            "give a readable text file whose first line is the password") from None
        if not lines or not lines[0].strip():
            raise DataError(f"--password-file {path}: empty; write the password on its first line")
        return lines[0].strip()
    secret = (os.environ if environ is None else environ).get(PASSWORD_ENV, "")
    return secret.strip() or None


def check_exposure(host: str, secret: str | None, no_auth: bool) -> None:
    """Refuse to share studies beyond this machine without a secret.

    Raises
    ------
    DataError
        When ``host`` is not a loopback address, no secret is given and ``no_auth`` is false.
    """
    if secret is None and not no_auth and not is_loopback(host):
        raise DataError(f"--host {host} shares the study's faces with the network: give a password with "
                        f"{OPTIONS} (viewers log in with any user name and it), or pass --no-auth on a "
                        "network you trust")
    if no_auth and not is_loopback(host):
        log.warning("--no-auth: anyone who reaches %s can see every face of the study", host)


class PasswordAuth(dash_auth.BasicAuth):
    """:class:`dash_auth.BasicAuth` with one shared password (any user name), compared in constant time;
    a malformed ``Authorization`` header is a 401, not a server error."""

    def __init__(self, app: dash.Dash, secret: str) -> None:
        expected = secret.encode("utf-8")
        super().__init__(app, auth_func=lambda _user, password: hmac.compare_digest(password.encode("utf-8"),
                                                                                    expected),
                         secret_key=os.urandom(32).hex())

    def is_authorized(self) -> bool:
        try:
            return super().is_authorized()
        except (IndexError, ValueError, UnicodeDecodeError):  # not "Basic <base64 of user:password>"
            return False


def protect(app: dash.Dash, secret: str | None) -> None:
    """Ask for ``secret`` on every route of ``app`` (nothing when ``secret`` is ``None``)."""
    if secret is not None:
        PasswordAuth(app, secret)
        log.info("password required on every page, callback and image (basic auth, any user name)")
