"""Database engine and sessions for SQLite (embedded default) and PostgreSQL (production)."""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

# Execution option asking for the database write lock when the transaction begins (SQLite).
WRITE_LOCK = "fangtiao_write_lock"
# A server that does not answer (rather than refusing) must not hang a health check or the worker.
CONNECT_TIMEOUT_SECONDS = 10
# Statement parameters (case state, names, ID numbers) stay out of error messages and so out of the logs.
HIDE_PARAMETERS = True
# SQLite writers queue on a lock file beside the database before BEGIN IMMEDIATE (see _sqlite_engine).
WRITERS_SUFFIX = "-writers"
WRITERS_FD = "fangtiao_writers_fd"
WRITERS_HELD = "fangtiao_writers_held"
WRITERS_WAIT_SECONDS = 30.0  # as long as SQLite's own busy timeout; past it, SQLite's wait takes over
WRITERS_POLL_MAX_SECONDS = 0.002


def make_engine(url: str) -> Engine:
    """The engine for a database URL (Settings.database_url)."""
    if url.startswith("sqlite"):
        return _sqlite_engine(url)
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    # No pre-ping: a round trip per checkout on every request and step. A connection that died with
    # its server fails its first statement instead; the pool then drops every connection of that
    # generation, the worker retries, and a web request answers 503 (orchestration.errors.Unavailable).
    return create_engine(
        url,
        hide_parameters=HIDE_PARAMETERS,
        connect_args={"connect_timeout": CONNECT_TIMEOUT_SECONDS},
    )


def _sqlite_engine(url: str) -> Engine:
    path = url.split("///", 1)[1] if "///" in url else ""
    if path and path != ":memory:" and not path.startswith("file:"):
        _private_file(Path(path.split("?", 1)[0]))
    engine = create_engine(
        url, hide_parameters=HIDE_PARAMETERS, connect_args={"timeout": 30, "check_same_thread": False}
    )
    writers = f"{path}{WRITERS_SUFFIX}" if path and path != ":memory:" else None

    # pysqlite's own transaction handling is switched off so that a write transaction can take the
    # database lock at its start (BEGIN IMMEDIATE); otherwise two writers both read the same state
    # before either writes. Readers keep a deferred BEGIN and do not queue behind writers (WAL).
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()
        if writers is not None:
            _record.info[WRITERS_FD] = os.open(writers, os.O_RDWR | os.O_CREAT, 0o600)

    @event.listens_for(engine, "close")
    def _on_close(_dbapi_connection: Any, record: Any) -> None:
        fd = record.info.pop(WRITERS_FD, None)
        if fd is not None:
            os.close(fd)

    # Writers wait for each other on a lock file rather than in SQLite's busy handler. That handler
    # polls with growing sleeps (up to 100 ms), so a writer that has waited a while keeps losing the lock
    # to newcomers: under load most writes wait a few milliseconds and a few wait seconds. Waiting on the
    # file instead, polled every 2 ms at most, the wait is about the queue ahead (every process that
    # writes the database goes through here: web workers, timer workers, the command line).
    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        if not conn.get_execution_options().get(WRITE_LOCK):
            conn.exec_driver_sql("BEGIN")
            return
        info = conn.connection.info
        fd = info.get(WRITERS_FD)
        if fd is not None and _take_writers_lock(fd):
            info[WRITERS_HELD] = True
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            _release_writers_lock(conn.connection)
            raise

    # Released only once the COMMIT or ROLLBACK is done, so that the next writer's BEGIN IMMEDIATE finds
    # the database free rather than entering SQLite's busy handler.
    dialect = engine.dialect
    commit, rollback = dialect.do_commit, dialect.do_rollback

    def do_commit(dbapi_connection: Any) -> None:
        try:
            commit(dbapi_connection)
        finally:
            _release_writers_lock(dbapi_connection)

    def do_rollback(dbapi_connection: Any) -> None:
        try:
            rollback(dbapi_connection)
        finally:
            _release_writers_lock(dbapi_connection)

    setattr(dialect, "do_commit", do_commit)  # noqa: B010  (an instance's own: this engine's dialect only)
    setattr(dialect, "do_rollback", do_rollback)  # noqa: B010
    return engine


def _take_writers_lock(fd: int) -> bool:
    """True once this connection holds the writers' lock; False if it waited too long (SQLite's own
    busy timeout then applies, as without the lock file)."""
    deadline = time.monotonic() + WRITERS_WAIT_SECONDS
    delay = 0.0001
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() > deadline:
                return False
            time.sleep(delay)
            delay = min(delay * 2, WRITERS_POLL_MAX_SECONDS)


def _release_writers_lock(pooled_connection: Any) -> None:
    try:
        info = pooled_connection.info
    except (AttributeError, NotImplementedError):  # the dialect's first connect: no pool record yet
        return
    if info.pop(WRITERS_HELD, False):
        fcntl.flock(info[WRITERS_FD], fcntl.LOCK_UN)


def _private_file(path: Path) -> None:
    """The embedded database holds personal data: its folder, when this creates it, is 0700 and the file
    0600 (SQLite gives its -wal and -shm files the same mode as the database file). A file or folder
    that already exists keeps the mode its owner chose."""
    missing = []
    folder = path.parent
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for created in reversed(missing):
        created.mkdir(mode=0o700, exist_ok=True)
        created.chmod(0o700)  # mkdir's mode is masked by the umask
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        return
    path.chmod(0o600)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def error_summary(exc: BaseException) -> str:
    """The error's type and the first line of the driver's own message (for the worker's heartbeat row,
    /healthz and one-line log entries): short, and without the SQL that SQLAlchemy appends."""
    original = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    lines = str(original).strip().splitlines()
    return f"{type(original).__name__}: {lines[0] if lines else ''}"[:500]
