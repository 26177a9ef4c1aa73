"""The store on a real SQLite file: migrations, feed sync, atomic feed updates, the outbox."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, func, select, update

from bot.errors import WirewatchError
from bot.models import Item, Match, StoryAction, StoryDecision
from bot.store import schema
from bot.store.db import Delivery, FeedState, ProcessedItem, Store

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def make_item(key: str, source: str = "Wire", hours_ago: float = 1) -> Item:
    return Item(key=key, title=f"Title {key}", summary="Text.", url=f"https://x.org/{key}",
                source=source, published=NOW - timedelta(hours=hours_ago), content_hash=key)


def processed(key: str, story: str, targets=("console",), source: str = "Wire") -> ProcessedItem:
    item = make_item(key, source)
    return ProcessedItem(item, (Match("anbar", 1.0, ("ramadi",)),), StoryDecision(story, StoryAction.NEW),
                         tuple(Delivery(t, "alert", {"title": item.title}) for t in targets))


def state(**kw) -> FeedState:
    return FeedState(checked_at=NOW, next_check_at=NOW + timedelta(minutes=15), status=kw.pop("status", "new"), **kw)


def test_new_database_is_at_current_version(store):
    with store.engine.connect() as conn:
        assert schema.current_version(conn) == schema.SCHEMA_VERSION


def test_database_from_a_newer_version_is_refused(database_url):
    url = database_url
    Store.open(url).close()
    s = Store.open(url)
    with s.engine.begin() as conn:
        conn.execute(update(schema.meta).values(value=str(schema.SCHEMA_VERSION + 1)))
    s.close()
    with pytest.raises(WirewatchError, match="written by a newer wirewatch"):
        Store.open(url)


def test_sync_config_feeds_adds_updates_and_retires(store):
    store.sync_config_feeds([("https://a.org/rss", "A", None), ("https://b.org/rss", "B", 600.0)], NOW)
    store.add_feed("https://c.org/rss", "C", "admin", NOW)
    store.sync_config_feeds([("https://b.org/rss", "B2", None)], NOW)
    active = {f.url: f for f in store.feeds()}
    assert set(active) == {"https://b.org/rss", "https://c.org/rss"}  # admin feed kept
    assert active["https://b.org/rss"].name == "B2"
    assert len(store.feeds(active_only=False)) == 3  # retired, not deleted: history stays


def statements(store) -> list[str]:
    """Every SQL statement the store sends from now on (its first word, upper case); PostgreSQL's
    setup lock (one advisory-lock SELECT per setup transaction) is not counted."""
    sent: list[str] = []

    def seen(_conn, _cursor, sql, *_):
        if "pg_advisory" not in sql:
            sent.append(sql.split()[0].upper())

    event.listen(store.engine, "before_cursor_execute", seen)
    return sent


def test_sync_config_feeds_unchanged_config_only_reads(store):
    config = [("https://a.org/rss", "A", None), ("https://b.org/rss", "", 600.0)]
    store.sync_config_feeds(config + [("https://gone.org/rss", "G", None)], NOW)
    store.sync_config_feeds(config, NOW)  # retires gone.org
    sent = statements(store)
    store.sync_config_feeds(config, NOW)
    assert sent == ["SELECT"]


def test_sync_config_feeds_applies_a_changed_name_or_interval(store):
    store.sync_config_feeds([("https://a.org/rss", "A", None), ("https://b.org/rss", "B", 600.0)], NOW)
    sent = statements(store)
    store.sync_config_feeds([("https://a.org/rss", "A2", None), ("https://b.org/rss", "B", 900.0)], NOW)
    assert sent.count("UPDATE") == 2
    feeds = {f.url: (f.name, f.interval) for f in store.feeds()}
    assert feeds == {"https://a.org/rss": ("A2", None), "https://b.org/rss": ("B", 900.0)}


def test_due_feeds(store):
    store.sync_config_feeds([("https://a.org/rss", "A", None)], NOW)
    assert store.feeds(due_before=NOW - timedelta(seconds=1)) == []
    assert len(store.feeds(due_before=NOW)) == 1


def test_save_update_writes_everything_and_unseen_skips_it(store):
    store.sync_config_feeds([("https://a.org/rss", "A", None)], NOW)
    feed = store.feeds()[0]
    store.save_update(feed.id, state(etag='"v1"'), [processed("k1", "s1"), processed("k2", "s2")])
    feed = store.feeds()[0]
    assert (feed.etag, feed.items_total, feed.error_count) == ('"v1"', 2, 0)
    assert [i.key for i in store.unseen([make_item("k1"), make_item("k3"), make_item("k3")])] == ["k3"]
    assert [r.story_id for r in store.pending(["console"], NOW)] == ["s1", "s2"]
    assert store.alerted_targets("s1") == {"console"}


@pytest.mark.parametrize("story, expected", [
    ("s1", ({"console", "tg:7"}, ["Wire", "Ledger"], [("Wire", "Title k1", "https://x.org/k1"),
                                                       ("Ledger", "Title k3", "https://x.org/k3")])),  # two targets, two sources
    ("s2", (set(), ["Wire"], [("Wire", "Title k2", "https://x.org/k2")])),  # stored, never alerted
    ("s9", (set(), [], [])),  # unknown
])
def test_story_view(store, story, expected):
    store.sync_config_feeds([("https://a.org/rss", "A", None)], NOW)
    feed = store.feeds()[0].id
    store.save_update(feed, state(), [processed("k1", "s1", ("console", "tg:7")), processed("k2", "s2", ())])
    joined = processed("k3", "s1", (), source="Ledger")
    store.save_update(feed, state(), [replace(joined, decision=StoryDecision("s1", StoryAction.JOIN))])
    found = store.story_view(story)
    assert (set(found.alerted), list(found.sources), [(m.source, m.title, m.url) for m in found.members]) == expected
    assert found.title == ("" if story == "s9" else f"Title k{story[1]}")
    assert store.story_records([story, "s9", story]) == ({} if story == "s9" else {story: found})


def test_unseen_does_not_ask_again_for_keys_just_checked(store):
    store.sync_config_feeds([("https://a.org/rss", "A", None)], NOW)
    store.save_update(store.feeds()[0].id, state(), [processed("k1", "s1")])
    items = [make_item("k1"), make_item("k2")]
    assert [i.key for i in store.unseen(items, checked={"k1"})] == ["k1", "k2"]  # taken on trust
    assert [i.key for i in store.unseen(items, checked={"k2"})] == ["k2"]


def test_failed_update_writes_nothing(store):
    """A crash (here: a duplicate key) inside one feed update rolls the whole update back."""
    store.sync_config_feeds([("https://a.org/rss", "A", None)], NOW)
    feed = store.feeds()[0]
    with pytest.raises(Exception):  # noqa: B017 - any database error
        store.save_update(feed.id, state(etag='"v2"'), [processed("k1", "s1"), processed("k1", "s1")])
    with store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(schema.items)).scalar() == 0
        assert conn.execute(select(func.count()).select_from(schema.outbox)).scalar() == 0
    assert store.feeds()[0].etag is None


def test_errors_count_up_and_success_resets(store):
    store.sync_config_feeds([("https://a.org/rss", "A", None)], NOW)
    fid = store.feeds()[0].id
    store.save_update(fid, state(status="error", error="timeout: 30 s"), [])
    store.save_update(fid, state(status="error", error="http: 503"), [])
    feed = store.feeds()[0]
    assert (feed.error_count, feed.last_error) == (2, "http: 503")
    store.save_update(fid, state(status="not_modified"), [])
    feed = store.feeds()[0]
    assert (feed.error_count, feed.last_error, feed.last_status) == (0, None, "not_modified")


def test_permanent_redirect_moves_the_feed(store):
    store.sync_config_feeds([("https://a.org/rss", "A", None)], NOW)
    fid = store.feeds()[0].id
    store.save_update(fid, state(moved_to="https://a.org/feed.xml"), [])
    assert store.feeds()[0].url == "https://a.org/feed.xml"
    store.sync_config_feeds([("https://a.org/rss", "A", None)], NOW)  # still the same feed
    assert [f.url for f in store.feeds()] == ["https://a.org/feed.xml"]


def test_story_sources_accumulate(store):
    store.sync_config_feeds([("https://a.org/rss", "A", None)], NOW)
    fid = store.feeds()[0].id
    store.save_update(fid, state(), [processed("k1", "s1", source="Wire")])
    join = processed("k2", "s1", targets=(), source="Ledger")
    store.save_update(fid, state(), [ProcessedItem(join.item, join.matches, StoryDecision("s1", StoryAction.JOIN), ())])
    assert store.story_sources("s1") == ["Wire", "Ledger"]
    assert [(i.key, s) for i, s in store.items_since(NOW - timedelta(days=1))] == [("k1", "s1"), ("k2", "s1")]


def test_items_before_a_time_are_the_older_items_of_stories_with_items_since(store):
    """What a window rebuilt from `since` no longer holds of its stories (held.Story.recall)."""
    store.sync_config_feeds([("https://a.org/rss", "A", None)], NOW)
    fid = store.feeds()[0].id
    for key, story, hours in (("k1", "s-old", 30), ("k0", "s-old", 40), ("k2", "s-old", 2), ("k3", "s-new", 2),
                              ("k4", "s-gone", 40)):
        row = processed(key, story, targets=())
        store.save_update(fid, state(), [replace(row, item=make_item(key, hours_ago=hours))])
    long = replace(make_item("k5", hours_ago=35), summary="x" * 5000, body="y" * 5000)
    store.save_update(fid, state(), [replace(processed("k5", "s-old", targets=()), item=long)])
    earlier = list(store.items_before(NOW - timedelta(hours=24)))
    assert [(i.key, sid) for i, sid in earlier] == [("k0", "s-old"), ("k5", "s-old"), ("k1", "s-old")]
    assert earlier[0][0].published == NOW - timedelta(hours=40)  # aware, as items_since gives it
    assert (len(earlier[1][0].summary), len(earlier[1][0].body)) == (2000, 2000)  # the lead only


def test_outbox_retry_and_sent(store):
    store.sync_config_feeds([("https://a.org/rss", "A", None)], NOW)
    store.save_update(store.feeds()[0].id, state(), [processed("k1", "s1", targets=("console", "tg:5"))])
    tg = store.pending(["tg:5"], NOW)[0]
    store.mark_retry(tg.id, "429", NOW + timedelta(seconds=30))
    assert store.pending(["tg:5"], NOW) == []
    assert len(store.pending(["tg:5"], NOW + timedelta(seconds=30))) == 1
    store.mark_sent(tg.id, NOW, "777")
    assert store.sent_ref("tg:5", "s1") == "777"
    counts = store.counts(NOW - timedelta(hours=1))
    assert counts["pending"] == 1 and counts["alerts_sent"] == 1  # sent_at stored as a time
    assert store.counts(NOW + timedelta(seconds=1))["alerts_sent"] == 0


def test_migration_adds_the_chat_language_columns(tmp_path):
    """A database from before /settings lang gets chats.language and chats.tg_language, and keeps its chats."""
    from sqlalchemy import inspect as sa_inspect
    from sqlalchemy import text

    url = f"sqlite:///{tmp_path / 'old.db'}"
    Store.open(url).close()
    s = Store.open(url)
    before = schema.MIGRATIONS.index(schema._chat_languages) + 1  # the version this step upgrades
    with s.engine.begin() as conn:
        conn.execute(text("ALTER TABLE chats DROP COLUMN language"))
        conn.execute(text("ALTER TABLE chats DROP COLUMN tg_language"))
        conn.execute(text("INSERT INTO chats (id, active, created_at, updated_at) VALUES (5, 1, '2026-01-01', '2026-01-01')"))
        conn.execute(update(schema.meta).values(value=str(before)))
    s.close()
    s = Store.open(url)
    try:
        with s.engine.connect() as conn:
            columns = {c["name"] for c in sa_inspect(conn).get_columns("chats")}
            assert {"language", "tg_language"} <= columns
            assert schema.current_version(conn) == schema.SCHEMA_VERSION
        from bot.store import chats as db

        assert db.get_chat(s, 5).language is None
    finally:
        s.close()
def test_long_keys_are_hashed_and_nul_removed_on_every_backend(store):
    """A 700-character GUID and a NUL in an id: PostgreSQL would refuse both (VARCHAR(600), NUL)."""
    store.sync_config_feeds([("https://a.org/rss", "A", None)], NOW)
    fid = store.feeds()[0].id
    long_a, long_b, nul = "g:" + "a" * 700, "g:" + "a" * 699 + "b", "g:id\x00with-nul"
    items = [replace(processed(k, f"s{n}"), item=replace(make_item(k), guid=k * 2, title="T\x00", url="https://x.org/" + "p" * 3000))
             for n, k in enumerate((long_a, long_b, nul))]
    store.save_update(fid, state(error="bad\x00byte", etag="e" * 900), items)
    assert store.known_keys([long_a, long_b, nul, "g:" + "a" * 800]) == {long_a, long_b, nul}
    assert [i.key for i in store.unseen([make_item(long_a), make_item(long_b), make_item(nul)])] == []
    stored = {i.key: i for i, _ in store.items_since(NOW - timedelta(days=1))}
    assert len(stored) == 3 and all(len(k) <= 600 for k in stored) and "g:idwith-nul" in stored
    assert {i.title for i in stored.values()} == {"T"} and all(len(i.url) == 2048 for i in stored.values())
    assert len(store.feeds()[0].etag) == 512


def test_keys_equal_once_cleaned_are_one_item(store):
    items = [make_item("g:a\x00b"), make_item("g:ab")]
    assert [i.key for i in store.unseen(items)] == ["g:a\x00b"]
