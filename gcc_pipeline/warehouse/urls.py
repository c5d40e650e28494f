"""Connection-URL helpers: one place decides how URLs are shown and which driver they use."""

from urllib.parse import parse_qs, urlsplit, urlunsplit


def redact(url: str) -> str:
    """The URL with any password replaced, safe for logs and error messages."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    user = netloc[0].split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc[1]}"))


def describe_host(url: str) -> str:
    """Host (or socket folder), port and database, for one-line messages; never the password."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or parse_qs(parts.query).get("host", ["local socket"])[0]
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "an unparsable URL"
    database = parts.path.lstrip("/") or "(default database)"
    return f"{host}{port}/{database}"


def with_database(url: str, database: str) -> str:
    """The same server and credentials, another database."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{database}"))


def database_of(url: str) -> str:
    return urlsplit(url).path.lstrip("/") or "postgres"


def for_sqlalchemy(url: str) -> str:
    """SQLAlchemy 2.1 maps `postgresql://` to psycopg 3; this project ships psycopg2."""
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
