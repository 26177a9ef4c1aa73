"""Story clustering: which story each new item belongs to, decided on arrival (see cluster.py)."""

from bot.stories.cluster import StoryClusterer, default_settings, story_id_for

__all__ = ["StoryClusterer", "default_settings", "story_id_for"]
