"""A TLS-terminating PostgreSQL proxy: a hosted server's "TLS required" on loopback.

The embedded PostgreSQL (tests, default setup) is built without SSL, while a hosted warehouse
(Neon, Vercel Postgres) accepts TLS only. This proxy speaks the opening of PostgreSQL's protocol
itself: it answers an SSLRequest with 'S' and completes the TLS handshake with a throwaway server
certificate, declines a GSSENCRequest with 'N' (libpq then asks for TLS on the same connection),
and refuses a startup in the clear with the FATAL error a TLS-only server sends, so
`sslmode=disable` fails plainly. Then it relays the decrypted stream to the plain server with
bench/netdelay.py's machinery; it counts handshakes, which is how a test proves TLS was used.

    certs = Certificates.create(folder)      # a CA and a server certificate for 127.0.0.1
    with TlsProxy.for_postgres(url, certs) as tls:
        url = tls.rewrite_url(url, sslmode="verify-full", sslrootcert=str(certs.ca))
    with hosted_postgres(url, certs, delay_ms=5) as hosted:   # TLS, 5 ms away
        psycopg2.connect(hosted.url)

    python -m bench.tlsproxy --target /tmp/pg/.s.PGSQL.5432 --certs /tmp/certs --delay-ms 5

With a delay, a bench/netdelay.py proxy sits in front of this one and carries the encrypted
stream, so the SSLRequest and the handshake pay the distance too, as they do to a hosted server.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import shutil
import ssl
import struct
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.netdelay import (
    GSSENC_REQUEST,
    SSL_REQUEST,
    DelayProxy,
    build_parser,
    postgres_target,
    serve,
)

CANCEL_REQUEST = 80877102
_OPENING_TIMEOUT = 30.0  # seconds a client may take over its opening and handshake
_MAX_STARTUP = 10_000  # bytes: PostgreSQL's own limit on a startup packet
TLS_REQUIRED = "SSL required: this server accepts TLS connections only (use sslmode=require)"


# ---------------------------------------------------------------------- certificates


@dataclass(frozen=True)
class Certificates:
    """A throwaway CA and a server certificate it signed, as PEM files in one folder."""

    folder: Path

    @property
    def ca(self) -> Path:
        """The CA certificate: what a client's ``sslrootcert`` names."""
        return self.folder / "ca.pem"

    @property
    def cert(self) -> Path:
        return self.folder / "server.pem"

    @property
    def key(self) -> Path:
        return self.folder / "server.key"

    @classmethod
    def create(
        cls, folder: Path, hosts: Sequence[str] = ("127.0.0.1", "localhost")
    ) -> Certificates:
        """Made by the ``openssl`` command (nothing downloaded, no Python package needed), valid
        for two days for ``hosts`` (subject alternative names, as verify-full checks). A folder
        that already holds them is reused."""
        certs = cls(Path(folder))
        if all(p.exists() for p in (certs.ca, certs.cert, certs.key)):
            return certs
        if shutil.which("openssl") is None:
            raise RuntimeError("the openssl command is needed to make throwaway certificates")
        certs.folder.mkdir(parents=True, exist_ok=True)
        names = ",".join(
            f"IP:{h}" if h.replace(".", "").isdigit() or ":" in h else f"DNS:{h}" for h in hosts
        )
        extensions = certs.folder / "server.ext"
        extensions.write_text(
            f"subjectAltName={names}\nbasicConstraints=critical,CA:FALSE\n"
            "keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n"
        )
        ca_key, csr = certs.folder / "ca.key", certs.folder / "server.csr"
        ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        _openssl("req", "-x509", *ec, "-keyout", ca_key, "-out", certs.ca, "-days", "2",
                 "-subj", "/CN=gcc-pipeline throwaway test CA",
                 "-addext", "basicConstraints=critical,CA:TRUE",
                 "-addext", "keyUsage=critical,keyCertSign,cRLSign")  # fmt: skip
        _openssl("req", *ec, "-keyout", certs.key, "-out", csr, "-subj", f"/CN={hosts[0]}")
        _openssl("x509", "-req", "-in", csr, "-CA", certs.ca, "-CAkey", ca_key, "-set_serial",
                 str(secrets.randbits(63)), "-days", "2",
                 "-extfile", extensions, "-out", certs.cert)  # fmt: skip
        for scrap in (csr, extensions):
            scrap.unlink()
        return certs

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(self.cert, self.key)
        context.set_alpn_protocols(["postgresql"])  # what a PostgreSQL 17 server offers
        return context


def _openssl(*args: object) -> None:
    done = subprocess.run(["openssl", *map(str, args)], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"openssl {args[0]} failed: {done.stderr.strip()[-500:]}")


# ---------------------------------------------------------------------- the proxy


def error_response(message: str, sqlstate: str = "28000", severity: str = "FATAL") -> bytes:
    """A backend ErrorResponse message (what a server sends before closing a refused login)."""
    fields = [(b"S", severity), (b"V", severity), (b"C", sqlstate), (b"M", message)]
    body = b"".join(tag + value.encode() + b"\0" for tag, value in fields) + b"\0"
    return b"E" + struct.pack("!I", len(body) + 4) + body


class TlsProxy(DelayProxy):
    """Terminate TLS for PostgreSQL clients and relay to ``target`` (``(host, port)`` or a unix
    socket); ``require_tls=False`` relays a startup in the clear instead of refusing it."""

    def __init__(
        self,
        target: tuple[str, int] | str,
        certificates: Certificates,
        delay_ms: float = 0.0,
        listen: tuple[str, int] = ("127.0.0.1", 0),
        *,
        require_tls: bool = True,
    ) -> None:
        super().__init__(target, delay_ms, listen)
        self.certificates = certificates
        self.require_tls = require_tls
        self._context = certificates.server_context()
        self.handshakes = 0  # TLS sessions established
        self.failed_handshakes = 0  # e.g. the client did not trust the certificate
        self.refused = 0  # startups in the clear, refused
        self.plain = 0  # startups in the clear, relayed (require_tls=False)
        self.gss_declined = 0
        self.cancels = 0  # CancelRequests (libpq sends them in the clear), relayed
        self.protocols: Counter[str] = Counter()  # TLS version of each session

    @classmethod
    def for_postgres(  # type: ignore[override]
        cls,
        url: str,
        certificates: Certificates,
        delay_ms: float = 0.0,
        listen: tuple[str, int] = ("127.0.0.1", 0),
        *,
        require_tls: bool = True,
    ) -> TlsProxy:
        """In front of a PostgreSQL URL's server (a TCP host or ``?host=/socket/dir``)."""
        return cls(postgres_target(url), certificates, delay_ms, listen, require_tls=require_tls)

    def stats(self) -> dict[str, Any]:
        return super().stats() | {
            "tls_handshakes": self.handshakes,
            "failed_handshakes": self.failed_handshakes,
            "refused_plain": self.refused,
            "relayed_plain": self.plain,
            "gss_declined": self.gss_declined,
            "cancels": self.cancels,
            "protocols": dict(self.protocols),
        }

    async def _greet(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bytes | None:
        return await asyncio.wait_for(self._negotiate(reader, writer), _OPENING_TIMEOUT)

    async def _negotiate(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bytes | None:
        while True:
            head = await reader.readexactly(8)
            length, code = struct.unpack("!II", head)
            if length == 8 and code == GSSENC_REQUEST:
                self.gss_declined += 1
                writer.write(b"N")  # the client may ask for TLS next, on this connection
                await writer.drain()
                continue
            if length == 8 and code == SSL_REQUEST:
                writer.write(b"S")
                await writer.drain()
                try:
                    await writer.start_tls(self._context)
                except (OSError, ssl.SSLError, EOFError):
                    self.failed_handshakes += 1
                    return None
                self.handshakes += 1
                ssl_object = writer.get_extra_info("ssl_object")
                self.protocols[ssl_object.version() if ssl_object else "?"] += 1
                return b""  # the startup message follows, encrypted: relayed as it is
            if length == 16 and code == CANCEL_REQUEST:
                self.cancels += 1
                return head + await reader.readexactly(8)
            # a startup packet in the clear: read it all (a reset would hide the error below)
            startup = head + (await reader.readexactly(length - 8) if 8 < length <= _MAX_STARTUP
                              else b"")  # fmt: skip
            if not self.require_tls:
                self.plain += 1
                return startup
            self.refused += 1
            writer.write(error_response(TLS_REQUIRED))
            await writer.drain()
            return None


# ---------------------------------------------------------------------- a hosted server


@dataclass(frozen=True)
class Hosted:
    """A plain server dressed as a hosted one: ``url`` reaches it through ``tls``, and through
    ``delay`` in front of that when it is distant."""

    url: str
    tls: TlsProxy
    delay: DelayProxy | None

    def stats(self) -> dict[str, Any]:
        """The TLS proxy's counts (it reads each connection's application_name and statements
        in the clear) and, from the delay, the round trips on the wire, handshakes included."""
        front = self.delay.stats() if self.delay else self.tls.stats()
        return self.tls.stats() | {
            "delay_ms": front["delay_ms"], "network_round_trips": front["round_trips"],
        }  # fmt: skip


@contextlib.contextmanager
def hosted_postgres(
    url: str, certificates: Certificates, delay_ms: float = 0.0, sslmode: str = "verify-full"
) -> Iterator[Hosted]:
    """``url``'s server behind TLS (verified against the throwaway CA unless ``sslmode`` says
    less) and, with ``delay_ms``, that far away each way, handshakes included."""
    params = {"sslmode": sslmode}
    if sslmode.startswith("verify"):
        params["sslrootcert"] = str(certificates.ca)
    with TlsProxy.for_postgres(url, certificates) as tls:
        if not delay_ms:
            yield Hosted(tls.rewrite_url(url, **params), tls, None)
            return
        with DelayProxy(tls.address, delay_ms) as delay:
            yield Hosted(delay.rewrite_url(url, **params), tls, delay)


def main(argv: Sequence[str] | None = None) -> int:
    p = build_parser(
        "python -m bench.tlsproxy",
        "Accept PostgreSQL clients over TLS on a local port and relay them to HOST:PORT or a "
        "unix socket in the clear (like a hosted server that requires TLS).",
    )
    p.set_defaults(delay_ms=0.0)
    p.add_argument(
        "--certs", type=Path, required=True,
        help="folder of the CA and server certificate (made there when missing)",
    )  # fmt: skip
    p.add_argument("--allow-plain", action="store_true", help="relay startups without TLS too")
    args = p.parse_args(argv)
    certs = Certificates.create(args.certs)
    print(f"# clients verify with sslrootcert={certs.ca}", file=sys.stderr, flush=True)
    listen = (args.host, args.port)
    if not args.delay_ms:
        tls = TlsProxy(args.target, certs, listen=listen, require_tls=not args.allow_plain)
        serve(tls, "TLS (required)" if tls.require_tls else "TLS (optional)")
        return 0
    with TlsProxy(args.target, certs, require_tls=not args.allow_plain) as tls:
        serve(DelayProxy(tls.address, args.delay_ms, listen=listen),
              f"TLS, {args.delay_ms:g} ms each way")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
