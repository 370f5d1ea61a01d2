"""Alembic environment: the connection comes from orchestration.store.migrate, the schema from the models."""

from alembic import context

from orchestration.store.models import Base

connection = context.config.attributes["connection"]
# SQLite alters a table by copying it (batch mode): with foreign keys enforced, dropping the old copy of a
# table that other rows refer to fails. They are checked again (foreign_key_check) before switching back.
sqlite = connection.dialect.name == "sqlite"
raw = connection.connection.driver_connection if sqlite else None
if raw is not None:
    raw.execute("PRAGMA foreign_keys=OFF")  # outside a transaction (pysqlite's own BEGIN is off)
try:
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
        if raw is not None and connection.exec_driver_sql("PRAGMA foreign_key_check").first() is not None:
            raise RuntimeError("迁移后存在违反外键约束的数据")
finally:
    if raw is not None:
        raw.execute("PRAGMA foreign_keys=ON")
