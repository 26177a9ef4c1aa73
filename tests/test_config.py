"""Config loading: defaults, environment, and every error reported with file, key and reason."""

from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest

from bot.config import load_config
from bot.errors import ConfigError
from bot.runtime import load_runtime

REPO = Path(__file__).resolve().parents[1]
RULE = 'name = "Anbar"\ndescription = "Anbar province"\nquery = "anbar OR ramadi"\n'


def test_empty_config_gets_documented_defaults(write_config):
    cfg = load_config(write_config(""))
    assert cfg.polling.interval == 900 and cfg.polling.backfill == 86400
    assert cfg.stories.window == 48 * 3600
    assert cfg.bot.database_url.endswith("/data/wirewatch.db")
    assert cfg.telegram.token is None and cfg.outputs.console is True


def test_values_paths_and_chats(write_config, tmp_path):
    cfg = load_config(write_config("""
[bot]
data_dir = "state"
[polling]
interval = "10m"
timeout = 12
[outputs]
jsonl = "out/alerts.jsonl"
[[feeds]]
url = "https://www.example.org/rss"
[[chats]]
id = -100
topics = ["anbar"]
quiet_hours = "22:00-07:30"
"""))
    assert cfg.bot.data_dir == tmp_path / "state"
    assert cfg.polling.interval == 600 and cfg.polling.timeout == 12
    assert cfg.outputs.jsonl == tmp_path / "out" / "alerts.jsonl"
    assert cfg.feeds[0].name == ""  # no name: the feed is named by its <title> when fetched
    assert cfg.chats[0].quiet_hours == (time(22, 0), time(7, 30))


def test_environment_variables(write_config, monkeypatch):
    monkeypatch.setenv("WW_TOKEN", "123:secret")
    cfg = load_config(write_config('[telegram]\ntoken = "${WW_TOKEN}"\napi_base_url = "${WW_UNSET:-}"'))
    assert cfg.telegram.token == "123:secret"
    assert "secret" not in repr(cfg)  # secrets never printed
    assert cfg.telegram.api_base_url is None


@pytest.mark.parametrize(
    ("text", "where", "reason"),
    [
        ("[polling]\nintervall = 5", "polling.intervall", "unknown key"),
        ("[polling]\ninterval = \"5 minutes\"", "polling.interval", "not a duration"),
        ("[polling]\nconcurrency = 0", "polling.concurrency", "greater than 0"),
        ("[polling]\njitter = 2", "polling.jitter", "between 0 and 1"),
        ("[polling]\nmin_interval = \"2h\"\nmax_interval = \"1h\"", "polling.min_interval", "greater than"),
        ("[bot]\ntimezone = \"Mars/Olympus\"", "bot.timezone", "unknown time zone"),
        ("[telegram]\ntoken = \"${WW_SURELY_UNSET}\"", "telegram.token", "WW_SURELY_UNSET is not set"),
        ("[telegram]\nadmins = [\"bob\"]", "telegram.admins", "list of integers"),
        ("[outputs]\nconsole = \"yes\"", "outputs.console", "true or false"),
        ("[[feeds]]\nname = \"x\"", "feeds[0].url", "is required"),
        ("[[feeds]]\nurl = \"ftp://x.org/feed\"", "feeds[0].url", "not an http(s) URL"),
        ("[[feeds]]\nurl = \"https://a.org/\"\n[[feeds]]\nurl = \"https://a.org/\"", "feeds[1].url", "duplicate"),
        ("[[chats]]\nid = 1\nmode = \"weekly\"", "chats[0].mode", "not one of"),
        ("[[chats]]\nid = 1\nquiet_hours = \"22-7\"", "chats[0].quiet_hours", "HH:MM"),
        ("[mystery]\nx = 1", "mystery", "unknown section"),
        ("[polling\n", "config.toml", "not valid TOML"),
    ],
)
def test_each_error_names_file_key_and_reason(write_config, text, where, reason):
    path = write_config(text)
    with pytest.raises(ConfigError) as exc:
        load_config(path)
    message = str(exc.value)
    assert str(path) in message and where in message and reason in message


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("[stories]\ntitle_threshold = 0", "stories.title_threshold: must be greater than 0"),
        ("[stories]\nthreshold = 0", "stories.threshold: must be greater than 0"),
        ("[stories]\ncopy_threshold = 0", "stories.copy_threshold: must be greater than 0"),
        ("[stories]\nname_weight = inf", "stories.name_weight: must be a finite number, not inf"),
        ("[stories]\njoin_threshold = nan", "stories.join_threshold: must be a finite number, not nan"),
        ("[polling]\nmax_redirects = -1", "polling.max_redirects: must be 0 or more"),
        ("[stories]\njoin_threshold = 0.5\nrelated_threshold = 0.75",
         "stories.related_threshold: 0.75 is greater than stories.join_threshold (0.5)"),
    ],
)
def test_numbers_that_would_crash_or_stall_run_are_refused(write_config, text, line):
    path = write_config(text)
    with pytest.raises(ConfigError) as exc:
        load_config(path)
    assert str(exc.value).splitlines() == [f"{path}: {line}"]


def test_all_errors_are_reported_together(write_config):
    with pytest.raises(ConfigError) as exc:
        load_config(write_config("[polling]\ninterval = \"x\"\nconcurrency = -1\nbogus = 1\n[outputs]\nconsole = 3"))
    assert len(exc.value.problems) == 4


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "nope.toml")


def test_chat_topics_must_exist(write_config):
    path = write_config("[[chats]]\nid = 5\ntopics = [\"anbar\", \"anbr\"]", rules={"anbar": RULE})
    with pytest.raises(ConfigError, match=r"chats\[0\].topics: unknown topic 'anbr'"):
        load_runtime(path)


def test_rule_and_config_problems_are_reported_together(write_config):
    path = write_config("[polling]\ninterval = \"x\"", rules={"bad": 'name = "Bad"\nquery = "(anbar"\n'})
    with pytest.raises(ConfigError) as exc:
        load_runtime(path)
    assert "polling.interval" in str(exc.value) and "bad.toml" in str(exc.value)


def test_example_config_and_shipped_rules_pass(tmp_path):
    text = (REPO / "config.example.toml").read_text(encoding="utf-8")
    path = tmp_path / "config.toml"
    path.write_text(text.replace('rules_dir = "./rules"', f'rules_dir = "{(REPO / "rules").as_posix()}"'), encoding="utf-8")
    rt = load_runtime(path)
    assert {"anbar", "isis-leadership", "drone-strikes", "border-security", "coalition-forces"} <= set(rt.topics)
