"""`wirewatch demo` as a new user runs it: sample feeds on loopback, one cycle, alerts printed."""

from __future__ import annotations

import io
import json

from bot.demo.run import run_demo


async def test_demo_prints_alerts_and_folds_the_shared_story(tmp_path):
    out, jsonl = io.StringIO(), tmp_path / "alerts.jsonl"
    assert await run_demo(jsonl=str(jsonl), stdout=out) == 0
    text = out.getvalue()
    lines = [json.loads(x) for x in jsonl.read_text(encoding="utf-8").splitlines()]
    alerts = [x for x in lines if x["type"] == "alert"]
    updates = [x for x in lines if x["type"] == "update"]
    strike = [a for a in alerts if "Mashhadani" in a["title"]]
    assert len(strike) == 1, "two outlets report one strike: one alert"
    assert [u["story"] for u in updates if "Mashhadani" in u["title"]] == [strike[0]["story"]]
    # no fold of different events: the strike's rewrite is the only item that joined a story
    # (the governor's academy, parliament's funds and the border arrests each alert on their own)
    assert [u["title"] for u in updates] == [u["title"] for u in updates if "Mashhadani" in u["title"]]
    assert any("police academy" in a["title"] for a in alerts)
    assert any("reconstruction funds" in a["title"] for a in alerts)
    # whichever outlet's report is older alerts; the other is "also"
    other = {"Baghdad Ledger": "Euphrates Wire", "Euphrates Wire": "Baghdad Ledger"}[strike[0]["source"]]
    assert f"also: {other}" in text
    assert any("Wadi Horan" in a["title"] for a in alerts)  # a different strike is its own story
    assert any("الأنبار" in a["title"] for a in alerts)  # the Arabic item matches the Anbar rule
    assert all("utm_" not in (a["url"] or "") for a in lines)
    assert f"{len(alerts)} alerts" in text
