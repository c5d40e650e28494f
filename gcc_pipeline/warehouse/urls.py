"""Connection-URL helpers: one place decides how URLs are shown and which driver they use.

Every rewrite keeps the query string (`sslmode`, `sslrootcert`, `host=/socket/dir`, `options`):
a hosted server's TLS settings must reach each connection `gcc` and Dagster open. libpq also
takes `dbname` and `password` as query parameters, so those are honoured here too.
"""

from urllib.parse import quote, unquote, urlsplit, urlunsplit

_HIDDEN = "***"


def _params(query: str) -> list[tuple[str, str, str]]:
    """(name, value, segment as written) per `name=value`; decoded as libpq does (%XX only:
    a `+` stays a plus), so rewrites can keep the other segments byte for byte."""
    out = []
    for segment in query.split("&"):
        if segment:
            name, _, value = segment.partition("=")
            out.append((unquote(name), unquote(value), segment))
    return out


def _without(query: str, name: str, replacement: str | None = None) -> str:
    """The query without parameter `name`, or with each of its segments replaced."""
    kept = []
    for key, _, written in _params(query):
        if key != name:
            kept.append(written)
        elif replacement is not None:
            kept.append(replacement)
    return "&".join(kept)


def query_param(url: str, name: str) -> str | None:
    """A query parameter of the URL (the last one wins, as in libpq), None when absent."""
    try:
        found = [value for key, value, _ in _params(urlsplit(url).query) if key == name]
    except ValueError:
        return None
    return found[-1] if found else None


def passwords_of(url: str) -> list[str]:
    """Every spelling of the URL's password (as written and decoded, in the user info or as a
    `password=` parameter), for scrubbing text that might quote it."""
    try:
        written = urlsplit(url).password
    except ValueError:
        written = None
    found = [p for p in (written, query_param(url, "password")) if p]
    return sorted({*found, *(unquote(p) for p in found)}, key=len, reverse=True)


def redact(url: str) -> str:
    """The URL with any password replaced, safe for logs and error messages."""
    parts = urlsplit(url)
    if parts.password:
        userinfo, host = parts.netloc.rsplit("@", 1)
        parts = parts._replace(netloc=f"{userinfo.split(':', 1)[0]}:{_HIDDEN}@{host}")
    if query_param(url, "password") is not None:
        parts = parts._replace(query=_without(parts.query, "password", f"password={_HIDDEN}"))
    return urlunsplit(parts)


def describe_host(url: str) -> str:
    """Host (or socket folder), port and database, for one-line messages; never the password."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or query_param(url, "host") or "local socket"
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "an unparsable URL"
    return f"{host}{port}/{database_of(url) if _names_database(url) else '(default database)'}"


def _names_database(url: str) -> bool:
    return bool(urlsplit(url).path.lstrip("/") or query_param(url, "dbname"))


def with_database(url: str, database: str) -> str:
    """The same server, credentials and parameters (TLS included), another database."""
    parts = urlsplit(url)
    query = _without(parts.query, "dbname")  # libpq: a dbname parameter beats the path
    return urlunsplit(parts._replace(path="/" + quote(database, safe=""), query=query))


def database_of(url: str) -> str:
    return unquote(query_param(url, "dbname") or urlsplit(url).path.lstrip("/")) or "postgres"


def for_sqlalchemy(url: str) -> str:
    """SQLAlchemy 2.1 maps `postgresql://` to psycopg 3; this project ships psycopg2. The query
    string passes through: SQLAlchemy hands its parameters to psycopg2 (libpq) as they are."""
    scheme, sep, rest = url.partition("://")
    if scheme in ("postgres", "postgresql"):
        return f"postgresql+psycopg2{sep}{rest}"
    return url


def for_libpq(url: str) -> str:
    """psycopg2/libpq want a plain `postgresql://` URL."""
    scheme, sep, rest = url.partition("://")
    if scheme.startswith("postgresql+") or scheme == "postgres":
        return f"postgresql{sep}{rest}"
    return url


def with_application(url: str, name: str) -> str:
    """The URL with `application_name=name` unless it names one already."""
    parts = urlsplit(url)
    if "application_name=" in parts.query:
        return url
    query = f"{parts.query}&application_name={name}" if parts.query else f"application_name={name}"
    return urlunsplit(parts._replace(query=query))
