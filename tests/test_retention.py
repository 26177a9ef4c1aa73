"""Retention on both backends: what goes, what stays, and the invariants story views and /why need."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from sqlalchemy import func, insert, select, update

from bot.models import StoryAction, StoryDecision
from bot.store import schema
from bot.store.retention import database_size, oldest_item
from tests.test_store import NOW, make_item, processed, state

OLD = NOW - timedelta(days=100)
CUTOFF = NOW - timedelta(days=90)


def aged(key: str, story: str, *, days: float = 100, targets=("console",), action=StoryAction.NEW):
    p = processed(key, story, targets)
    return replace(p, item=replace(make_item(key), published=NOW - timedelta(days=days)),
                   decision=StoryDecision(story, action))


def test_prune_keeps_what_story_views_why_and_labels_need(store):
    store.sync_config_feeds([("https://a.org/rss", "A", None)], NOW)
    fid = store.feeds()[0].id
    old = replace(state(), checked_at=OLD)
    store.save_update(fid, old, [aged("gone", "s1"), aged("pending", "s2"), aged("growing", "s3"),
                                 aged("labelled", "s4", targets=())])
    store.save_update(fid, state(), [aged("joined", "s3", days=0.1, targets=(), action=StoryAction.JOIN),
                                     aged("fresh", "s5", days=0.1)])
    sent = [r for r in store.pending(["console"], NOW) if r.story_id in ("s1", "s3")]
    for row in sent:
        store.mark_sent(row.id, NOW, "ref")
    with store.engine.begin() as conn:
        item = conn.execute(select(schema.items.c.id).where(schema.items.c.key == "labelled")).scalar()
        conn.execute(insert(schema.labels).values(topic="anbar", item_id=item, text="Title labelled", label=1,
                                                  user_id=7, origin="button", created_at=OLD))
        conn.execute(update(schema.items).where(schema.items.c.key == "fresh").values(published=OLD))  # a late copy
    pruned = [store.prune(CUTOFF, limit=1) for _ in range(4)]
    assert pruned == [1, 1, 0, 0]  # small batches; then nothing left to do
    with store.engine.connect() as conn:
        keys = set(conn.execute(select(schema.items.c.key)).scalars())
        stories = set(conn.execute(select(schema.stories.c.id)).scalars())
        orphans = conn.execute(select(func.count()).select_from(schema.outbox).where(
            schema.outbox.c.story_id.not_in(select(schema.stories.c.id)))).scalar()
        labels = conn.execute(select(schema.labels.c.text, schema.labels.c.item_id)).all()
    assert keys == {"pending", "growing", "joined", "fresh"}  # undelivered; story still growing; seen recently
    assert stories == {"s2", "s3", "s5"} and orphans == 0
    assert labels == [("Title labelled", None)]  # the label outlives its item
    view = store.story_view("s3")
    assert (set(view.alerted), list(view.sources)) == ({"console"}, ["Wire"])  # who was alerted: still known
    count, first = oldest_item(store.engine)
    assert count == 4 and first == OLD and database_size(store.engine) > 0


def test_migration_adds_the_retention_indexes(database_url):
    from sqlalchemy import inspect, text

    from bot.store.db import Store

    s = Store.open(database_url)
    with s.engine.begin() as conn:
        conn.execute(text("DROP INDEX ix_outbox_item"))
        conn.execute(text("DROP INDEX ix_stories_first_item"))
        # the version before that step (MIGRATIONS[n] takes version n+1 to n+2), so later steps run too
        before = schema.MIGRATIONS.index(schema._index_for_retention) + 1
        conn.execute(update(schema.meta).values(value=str(before)))
    s.close()
    s = Store.open(database_url)
    names = {i["name"] for table in ("outbox", "stories") for i in inspect(s.engine).get_indexes(table)}
    s.close()
    assert {"ix_outbox_item", "ix_stories_first_item"} <= names
