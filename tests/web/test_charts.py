"""The SVG bar geometry of the statistics page (service.web.charts)."""

from __future__ import annotations

from service.web.charts import percent_bar_chart


def test_bars_scale_to_the_plot_and_a_missing_rate_draws_nothing() -> None:
    chart = percent_bar_chart("t", "d", [("01/2026", 100.0), ("02/2026", None), ("03/2026", 50.0),
                                         ("04/2026", 0.0)])
    full, missing, half, zero = chart.bars
    plot_height = chart.plot_bottom - chart.plot_top
    assert full.height == plot_height and full.y == chart.plot_top
    assert missing.height == 0 and missing.text == "—"
    assert half.height == plot_height / 2 and half.text == "50%"
    assert zero.height == 0 and zero.text == "0%"
    assert full.x < missing.x < half.x < zero.x and full.x + full.width < missing.x


def test_rates_outside_0_100_are_clipped_but_shown_as_they_are() -> None:
    (bar,) = percent_bar_chart("t", "d", [("x", 140.5)]).bars
    assert bar.y == percent_bar_chart("t", "d", [("x", 100.0)]).bars[0].y and bar.text == "140.5%"
