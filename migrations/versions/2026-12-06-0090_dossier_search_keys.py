"""Search keys: ``GET /dossiers?q=`` reads no more than its matches, on SQLite as on PostgreSQL.

* ``dossier_search_key (key, dossier_id)``: each dossier under its folded name from each word on and its code from
  each hyphen-separated part on (:func:`service.domain.search.search_keys`);
* ``search_word (word)``: the vocabulary of name words and code parts (:func:`service.domain.search.search_words`).

Both back-filled from the existing dossiers (in SQL on PostgreSQL, in batches on SQLite). On PostgreSQL the
columns compare in the "C" collation, so that a key range is a prefix whatever the database's locale.

Revision ID: 0090
Revises: 0040
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from service.domain.search import search_keys, search_words

revision: str = "0090"
down_revision: str | None = "0040"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 20_000


def _key_type() -> sa.types.TypeEngine[str]:
    return sa.String(300).with_variant(sa.String(300, collation="C"), "postgresql")


def _backfill_postgresql() -> None:
    tails = """
        INSERT INTO dossier_search_key (key, dossier_id)
        SELECT DISTINCT '{kind}:' || array_to_string(parts[i:], '{sep}'), id
        FROM (SELECT id, string_to_array({column}, '{sep}') AS parts FROM dossier) AS d,
             generate_subscripts(parts, 1) AS i
        WHERE parts[i] <> ''
        ON CONFLICT DO NOTHING"""
    words = """
        INSERT INTO search_word (word)
        SELECT DISTINCT '{kind}:' || part FROM dossier, unnest(string_to_array({column}, '{sep}')) AS part
        WHERE part <> ''
        ON CONFLICT DO NOTHING"""
    for kind, column, sep in (("n", "applicant_name_normalised", " "), ("c", "code", "-")):
        op.execute(tails.format(kind=kind, column=column, sep=sep))
        op.execute(words.format(kind=kind, column=column, sep=sep))


def _backfill_sqlite() -> None:
    bind = op.get_bind()
    last = 0
    while True:
        rows = bind.exec_driver_sql(
            "SELECT id, code, applicant_name_normalised FROM dossier WHERE id > ? ORDER BY id LIMIT ?",
            (last, BATCH)).all()
        if not rows:
            return
        bind.exec_driver_sql("INSERT OR IGNORE INTO dossier_search_key (key, dossier_id) VALUES (?, ?)",
                             [(key, r[0]) for r in rows for key in search_keys(r[1], r[2])])
        bind.exec_driver_sql("INSERT OR IGNORE INTO search_word (word) VALUES (?)",
                             [(w,) for w in {w for r in rows for w in search_words(r[1], r[2])}])
        last = rows[-1][0]


def upgrade() -> None:
    op.create_table(
        "dossier_search_key",
        sa.Column("key", _key_type(), nullable=False),
        sa.Column("dossier_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["dossier_id"], ["dossier.id"], name=op.f("fk_dossier_search_key_dossier_id_dossier")),
        sa.PrimaryKeyConstraint("key", "dossier_id", name=op.f("pk_dossier_search_key")),
    )
    op.create_table(
        "search_word",
        sa.Column("word", _key_type(), nullable=False),
        sa.PrimaryKeyConstraint("word", name=op.f("pk_search_word")),
    )
    if op.get_bind().dialect.name == "postgresql":
        _backfill_postgresql()
    else:
        _backfill_sqlite()


def downgrade() -> None:
    op.drop_table("search_word")
    op.drop_table("dossier_search_key")
