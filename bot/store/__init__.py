"""Storage: SQLAlchemy Core tables, migrations and data access."""
