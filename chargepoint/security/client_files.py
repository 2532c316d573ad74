"""The station's own client certificate on disk, under `data_dir/client_certificate/`, every file
0600 in a 0700 directory: the key of a pending signing request (`pending.key`, kept across a
restart until its certificate arrives), the installed certificate chain with its key
(`certificate.pem`, `key.pem`), and the one before it (`previous.*`), kept until the new one has
carried a connection (A02.FR.10). Before any is installed the `tls_cert` / `tls_key` settings are
the certificate in use."""

from __future__ import annotations

import logging
import os
from datetime import datetime
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, load_pem_private_key

from chargepoint.infra.private_file import write_private
from chargepoint.security.signing_request import PrivateKey

log = logging.getLogger(__name__)

CertificateFiles = tuple[Path, Path | None]  # the chain, and its key when not in the same file


class ClientCertificateFiles:
    def __init__(self, directory: Path, factory: CertificateFiles | None) -> None:
        self._directory = directory
        self._factory = factory
        self._pending = directory / "pending.key"
        self._installed = (directory / "certificate.pem", directory / "key.pem")
        self._previous = (directory / "previous.pem", directory / "previous.key")
        self._untried = directory / "untried"  # the installed one has carried no connection yet

    def pending_key(self) -> PrivateKey | None:
        """None when no request is pending, or when the file is no key the station made (then no
        certificate can be for it, and a new request replaces it)."""
        if not self._pending.exists():
            return None
        try:
            key = load_pem_private_key(self._pending.read_bytes(), password=None)
        except (OSError, ValueError, TypeError, UnsupportedAlgorithm) as exc:
            log.warning("%s is unreadable (%s): no signing request is pending", self._pending, type(exc).__name__)
            return None
        return key if isinstance(key, PrivateKey) else None

    @property
    def pending(self) -> bool:
        return self._pending.exists()

    def keep_pending(self, key: PrivateKey) -> None:
        write_private(self._pending, _pem(key))

    def install(self, chain: str) -> None:
        """The chain of the pending key becomes the certificate in use; the one it replaces
        becomes the previous one."""
        key = self.pending_key()
        assert key is not None, "install() without a pending key"
        if all(path.exists() for path in self._installed):
            for current, previous in zip(self._installed, self._previous):
                os.replace(current, previous)
        certificate, key_file = self._installed
        write_private(self._untried, b"")
        write_private(key_file, _pem(key))
        write_private(certificate, chain.encode())
        self._pending.unlink()

    @property
    def untried(self) -> bool:
        return self._untried.exists()

    def proven(self) -> None:
        """The installed certificate carried a connection: the one before it may go (A02.FR.10)."""
        self._untried.unlink(missing_ok=True)
        for path in self._previous:
            path.unlink(missing_ok=True)

    def roll_back(self) -> None:
        """The CSMS refuses the installed certificate: the one before it is in use again (the
        previous files, or the settings')."""
        for installed, previous in zip(self._installed, self._previous):
            if previous.exists():
                os.replace(previous, installed)
            else:
                installed.unlink(missing_ok=True)
        self._untried.unlink(missing_ok=True)

    def in_use(self, now: datetime) -> CertificateFiles | None:
        """The newest certificate valid from now on (A02.FR.08, A02.FR.09): the installed one
        once its 'not valid before' has come, else the previous one, else the settings'."""
        for files in (self._installed, self._previous):
            leaf = _leaf(files[0]) if files[1].exists() else None
            if leaf is not None and leaf.not_valid_before_utc <= now:
                return files
        return self._factory

    def certificate(self, now: datetime) -> x509.Certificate | None:
        """The leaf in use; None without one, or when the settings' file is no certificate (the
        link says so when it loads it)."""
        files = self.in_use(now)
        return _leaf(files[0]) if files is not None else None

    def is_installed(self, files: CertificateFiles | None) -> bool:
        return files == self._installed


def _leaf(path: Path) -> x509.Certificate | None:
    try:
        return x509.load_pem_x509_certificate(path.read_bytes())
    except (OSError, ValueError):
        return None


def _pem(key: PrivateKey) -> bytes:
    return key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
