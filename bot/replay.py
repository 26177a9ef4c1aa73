"""`wirewatch replay`: what the pipeline would decide for a stream of items, without delivering."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime

from bot.items_jsonl import ItemRecord
from bot.models import StoryAction
from bot.stories.cluster import StoryClusterer


def replay_lines(records: Sequence[ItemRecord], matcher, clusterer: StoryClusterer,
                 now: datetime | None = None) -> Iterator[dict]:
    """One decision per item, in published order (ties and undated items keep file order).

    action: `alert` when a topic matched and the item's story had not alerted yet; `merge` when
    the item joins an existing story; `none` when no topic matched a new story. `related` is the
    story a new story was judged possibly the same as (its alert is threaded under that one's).
    `folded` lists the stories this item showed to be `story` (a late fold: their items, listed
    earlier under their own ids, belong to `story` from here on; their alerts had gone out).
    `why` says what the story decision rests on, as /why does in Telegram; each topic's `why`
    what matched, as `match` does. now: the clock of a `run` cycle that brought every item
    (StoryClusterer.assign); without it, the stream is history and every item is compared by words.
    """
    alerted: set[str] = set()
    for record in sorted(records, key=lambda r: r.item.published):
        found = matcher.match(record.item)
        decision = clusterer.assign(record.item, now)
        if found and decision.story_id not in alerted:
            action = "alert"
            alerted.add(decision.story_id)
        else:
            action = "merge" if decision.action is StoryAction.JOIN else "none"
        topics = [{"topic": m.topic, "score": round(m.score, 4), "why": list(m.why)} for m in found]
        yield {"id": record.id, "topics": topics, "story": decision.story_id, "action": action,
               "related": decision.related, "folded": list(decision.folded), "why": list(decision.why)}
