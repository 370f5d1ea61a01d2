"""Alembic environment: the connection comes from orchestration.store.migrate, the schema from the models."""

from alembic import context

from orchestration.store.models import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
