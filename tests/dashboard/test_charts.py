"""The trend charts' count axes tick whole numbers: a district's small counts once read 2, 2, 1, 1, 0."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pandas as pd

from dashboard.charts import daily_trend, hourly_trend

NOW = datetime(2026, 12, 7, 6, 30, tzinfo=UTC)


def test_small_counts_tick_by_one_and_large_ones_are_left_to_plotly() -> None:
    few = pd.DataFrame({"hour": [pd.Timestamp("2026-12-07 05:00", tz="UTC")], "level": [2], "n": [2]})
    many = few.assign(n=[40])
    assert hourly_trend(few, NOW, "zh").layout.yaxis.dtick == 1
    assert hourly_trend(many, NOW, "zh").layout.yaxis.dtick is None
    assert hourly_trend(few.iloc[:0], NOW, "zh").layout.yaxis.dtick == 1  # nothing yet: 0 and 1, not 0.5
    days = pd.DataFrame({"day": [date(2026, 12, 6), date(2026, 12, 6)], "category": ["flood", "hotline"],
                         "n": [2, 3]})
    assert daily_trend(days, date(2026, 12, 1), date(2026, 12, 7), "zh").layout.yaxis.dtick == 1
    assert daily_trend(days.assign(n=[20, 30]), date(2026, 12, 1), date(2026, 12, 7), "zh").layout.yaxis.dtick is None


def test_the_daily_trend_draws_people_moved_per_day_on_its_own_axis() -> None:
    days = pd.DataFrame({"day": [date(2026, 12, 6)], "category": ["flood"], "n": [2]})
    moved = pd.DataFrame({"day": [date(2026, 12, 5), date(2026, 12, 6)], "moved": [120, 30]})
    fig = daily_trend(days, date(2026, 12, 4), date(2026, 12, 7), "zh", moved=moved, moved_name="转移人数")
    line = next(tr for tr in fig.data if tr.name == "转移人数")
    assert list(line.x) == ["2026-12-04", "2026-12-05", "2026-12-06", "2026-12-07"] and list(line.y) == [0, 120, 30, 0]
    assert line.yaxis == "y2" and fig.layout.yaxis2.overlaying == "y"
    assert [tr.name for tr in daily_trend(days, date(2026, 12, 4), date(2026, 12, 7), "zh", moved=moved.iloc[:0],
                                          moved_name="转移人数").data] == ["防汛防台"]  # none moved: no line
