"""SQLite writers queue on a lock file beside the database (orchestration/store/db.py): held from BEGIN
IMMEDIATE until the COMMIT or ROLLBACK is done, by every connection of every process; SQLite only (on
PostgreSQL rows are locked, not the database)."""

from __future__ import annotations

import fcntl
import os
import threading
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from orchestration.store.db import WRITE_LOCK, WRITERS_SUFFIX, make_engine


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'w.sqlite'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (x INTEGER)"))
    return engine


def held_by_someone(path: Path) -> bool:
    """Whether another open file description holds the lock (as another process would see it)."""
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def test_a_write_transaction_holds_the_lock_until_commit_or_rollback(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    lock = tmp_path / f"w.sqlite{WRITERS_SUFFIX}"
    with sqlite_engine.connect() as connection:
        writer = connection.execution_options(**{WRITE_LOCK: True})
        with writer.begin():
            writer.execute(text("INSERT INTO t VALUES (1)"))
            assert held_by_someone(lock)
        assert not held_by_someone(lock)
        with pytest.raises(ZeroDivisionError), writer.begin():
            writer.execute(text("INSERT INTO t VALUES (2)"))
            assert held_by_someone(lock)
            1 / 0  # noqa: B018
        assert not held_by_someone(lock)
    with sqlite_engine.connect() as reader, reader.begin():
        # a read transaction takes no lock: readers never queue behind writers (WAL)
        assert reader.scalar(text("SELECT count(*) FROM t")) == 1
        assert not held_by_someone(lock)


def test_a_second_writer_waits_for_the_first_to_commit(sqlite_engine: Engine) -> None:
    order: list[str] = []
    first_in = threading.Event()

    def second() -> None:
        first_in.wait()
        with sqlite_engine.connect() as connection:
            writer = connection.execution_options(**{WRITE_LOCK: True})
            with writer.begin():
                order.append("second began")
                writer.execute(text("INSERT INTO t VALUES (2)"))

    thread = threading.Thread(target=second)
    thread.start()
    with sqlite_engine.connect() as connection:
        writer = connection.execution_options(**{WRITE_LOCK: True})
        with writer.begin():
            writer.execute(text("INSERT INTO t VALUES (1)"))
            first_in.set()
            thread.join(timeout=0.3)  # the second writer is still waiting
            order.append("first committing")
    thread.join()
    assert order == ["first committing", "second began"]
