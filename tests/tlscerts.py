"""Certificates for the TLS tests, made with the ``openssl`` command in a directory of their
own: a CA and what it signs (a server certificate for localhost and 127.0.0.1, a client
certificate, an expired server certificate, one for another host, an encrypted key), a
self-signed certificate, and a second CA with a client certificate of its own (a client the
first CA never signed). P-256 keys: quick to make, and every TLS library here speaks them
(mbedTLS 2.28, which nngcat uses, included). The validity starts in 2000, so that a clock
a little behind does not make a certificate "not yet valid".
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

PASSWORD = "correct horse"

_CA_CONFIG = """\
[ca]
default_ca = ca_default
[ca_default]
database = {dir}/index.txt
serial = {dir}/serial
new_certs_dir = {dir}
default_md = sha256
policy = policy
unique_subject = no
copy_extensions = none
[policy]
commonName = supplied
[ca_ext]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[server_ext]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = {san}
[client_ext]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
"""


@dataclass(frozen=True)
class Pair:
    """A certificate and its key (paths as str)."""

    cert: str
    key: str


@dataclass(frozen=True)
class Certs:
    dir: Path
    ca: Pair
    server: Pair  # CA-signed, localhost and 127.0.0.1
    server_encrypted: Pair  # the same certificate, its key encrypted with PASSWORD
    client: Pair  # CA-signed, for mutual TLS
    expired: Pair  # CA-signed server certificate, valid 2000 to 2001
    wrong_host: Pair  # CA-signed server certificate for wrong.example only
    self_signed: Pair  # localhost, signed by itself
    other_ca: Pair
    other_client: Pair  # a client certificate the other CA signed


def _run(*args: str, cwd: Path) -> None:
    done = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args)}: {done.stderr}")


def _key(path: Path) -> None:
    _run(
        "genpkey",
        "-algorithm",
        "EC",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-out",
        str(path),
        cwd=path.parent,
    )


class _Authority:
    """A CA made with ``openssl ca`` (which, unlike ``openssl x509``, sets any start date)."""

    def __init__(self, dir: Path, name: str) -> None:
        self.dir = dir / name
        self.dir.mkdir()
        (self.dir / "index.txt").write_text("")
        (self.dir / "serial").write_text("01\n")
        self.key = self.dir / "ca.key"
        self.cert = self.dir / "ca.pem"
        _key(self.key)
        csr = self.dir / "ca.csr"
        _run(
            "req",
            "-new",
            "-key",
            str(self.key),
            "-subj",
            f"/CN={name}",
            "-out",
            str(csr),
            cwd=self.dir,
        )
        self._sign(csr, self.cert, "ca_ext", self_sign=True)

    def _sign(
        self,
        csr: Path,
        out: Path,
        ext: str,
        *,
        san: str = "DNS:localhost",
        start: str = "20000101000000Z",
        end: str = "21000101000000Z",
        self_sign: bool = False,
    ) -> None:
        config = self.dir / f"{out.stem}.cnf"
        config.write_text(_CA_CONFIG.format(dir=self.dir, san=san))
        args = [
            "ca",
            "-batch",
            "-notext",
            "-config",
            str(config),
            "-extensions",
            ext,
            "-startdate",
            start,
            "-enddate",
            end,
            "-in",
            str(csr),
            "-out",
            str(out),
        ]
        if self_sign:
            args += ["-selfsign", "-keyfile", str(self.key)]
        else:
            args += ["-cert", str(self.cert), "-keyfile", str(self.key)]
        _run(*args, cwd=self.dir)

    def issue(self, name: str, ext: str, **kw: str) -> Pair:
        key = self.dir.parent / f"{name}.key"
        cert = self.dir.parent / f"{name}.pem"
        csr = self.dir / f"{name}.csr"
        _key(key)
        cn = "localhost" if ext == "server_ext" else name
        _run("req", "-new", "-key", str(key), "-subj", f"/CN={cn}", "-out", str(csr), cwd=self.dir)
        self._sign(csr, cert, ext, **kw)
        return Pair(str(cert), str(key))


def make_certs(dir: Path) -> Certs:
    """Makes every certificate of :class:`Certs` in ``dir`` (an empty directory)."""
    assert shutil.which("openssl"), "the openssl command is needed (make deps installs it)"
    ca = _Authority(dir, "ca")
    server = ca.issue("server", "server_ext", san="DNS:localhost,IP:127.0.0.1")
    encrypted = dir / "server-encrypted.key"
    _run(
        "pkey",
        "-in",
        server.key,
        "-aes256",
        "-passout",
        f"pass:{PASSWORD}",
        "-out",
        str(encrypted),
        cwd=dir,
    )
    client = ca.issue("client", "client_ext")
    expired = ca.issue(
        "expired",
        "server_ext",
        san="DNS:localhost,IP:127.0.0.1",
        start="20000101000000Z",
        end="20010101000000Z",
    )
    wrong_host = ca.issue("wrong-host", "server_ext", san="DNS:wrong.example")
    self_signed_ca = _Authority(dir, "self")
    self_signed_key = dir / "self-signed.key"
    self_signed_cert = dir / "self-signed.pem"
    shutil.copy(self_signed_ca.key, self_signed_key)
    # a certificate for localhost that signs itself: CN localhost, no CA above it
    csr = self_signed_ca.dir / "self-signed.csr"
    _run(
        "req",
        "-new",
        "-key",
        str(self_signed_key),
        "-subj",
        "/CN=localhost",
        "-out",
        str(csr),
        cwd=dir,
    )
    self_signed_ca.key = self_signed_key
    self_signed_ca._sign(
        csr, self_signed_cert, "server_ext", san="DNS:localhost,IP:127.0.0.1", self_sign=True
    )
    other = _Authority(dir, "other-ca")
    other_client = other.issue("other-client", "client_ext")
    return Certs(
        dir=dir,
        ca=Pair(str(ca.cert), str(ca.key)),
        server=server,
        server_encrypted=Pair(server.cert, str(encrypted)),
        client=client,
        expired=expired,
        wrong_host=wrong_host,
        self_signed=Pair(str(self_signed_cert), str(self_signed_key)),
        other_ca=Pair(str(other.cert), str(other.key)),
        other_client=other_client,
    )
