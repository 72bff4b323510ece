#!/usr/bin/python3
"""An SMTP server on loopback for scimd's tests (Debian's python3-aiosmtpd): STARTTLS with the
test certificate, required before AUTH, one user, and every accepted message saved into a
Maildir.

usage: smtp_server.py PORT MAILDIR CERT KEY USER PASSWORD
"""
import signal
import ssl
import sys
import time

from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox
from aiosmtpd.smtp import AuthResult, LoginPassword

port, maildir, cert, key, user, password = sys.argv[1:7]


def authenticate(server, session, envelope, mechanism, auth_data):
    ok = (isinstance(auth_data, LoginPassword)
          and auth_data.login.decode() == user
          and auth_data.password.decode() == password)
    return AuthResult(success=ok)


tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
tls.load_cert_chain(cert, key)
controller = Controller(Mailbox(maildir), hostname="127.0.0.1", port=int(port),
                        tls_context=tls, require_starttls=True,
                        authenticator=authenticate, auth_required=True)
controller.start()


def stop(*_):
    controller.stop()
    sys.exit(0)


signal.signal(signal.SIGTERM, stop)
while True:
    time.sleep(3600)
