"""Where a 12345 ticket goes (alerts.hotspots.plan): pure, the window's start given."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alerts.hotspots import Hotspot, Ticket, metres, plan

T0 = datetime(2026, 6, 1, 8, tzinfo=UTC)
LON, LAT = 113.0150, 25.7700
M_LON = 1 / 100_400  # about a metre of longitude at this latitude


def ticket(n: int, east_m: float = 0.0, complaint: str = "噪音扰民", hours: float = 0.0) -> Ticket:
    return Ticket("hotline12345", f"t-{n}", T0 + timedelta(hours=hours, minutes=n), complaint, LON + east_m * M_LON,
                  LAT)


def test_metres_is_the_great_circle_distance() -> None:
    assert abs(metres(LON, LAT, LON + 1000 * M_LON, LAT) - 1000) < 5
    assert abs(metres(LON, LAT, LON, LAT + 0.009) - 1000) < 5  # 0.009° of latitude ≈ 1 km


def test_five_of_a_kind_within_the_radius_form_one_hotspot_listing_them() -> None:
    tickets = [ticket(n, east_m=n * 90) for n in range(5)]  # within 360 m of each other
    p = plan(tickets, [], tickets, radius_m=500, at_least=5, since=T0 - timedelta(days=7))
    assert p.joins == ()
    assert len(p.clusters) == 1 and sorted(t.event_id for t in p.clusters[0].members) == [f"t-{n}" for n in range(5)]


def test_four_are_not_a_hotspot_nor_five_of_different_kinds_or_too_far_apart() -> None:
    four = [ticket(n) for n in range(4)]
    assert plan(four, [], four, radius_m=500, at_least=5, since=T0 - timedelta(days=7)).clusters == ()
    mixed = [*four, ticket(9, complaint="占道经营")]
    assert plan(mixed, [], mixed, radius_m=500, at_least=5, since=T0 - timedelta(days=7)).clusters == ()
    spread = [ticket(n, east_m=n * 400) for n in range(5)]  # 1.6 km end to end: at most 3 within 500 m of one
    assert plan(spread, [], spread, radius_m=500, at_least=5, since=T0 - timedelta(days=7)).clusters == ()


def test_only_tickets_within_the_window_count() -> None:
    old = [ticket(n, hours=-24 * 8) for n in range(4)]  # 8 days ago
    new = [ticket(10)]
    since = T0 - timedelta(days=7)
    assert plan(new, [], old + new, radius_m=500, at_least=5, since=since).clusters == ()
    recent = [ticket(n, hours=-24 * 6) for n in range(4)]  # 6 days ago
    assert len(plan(new, [], recent + new, radius_m=500, at_least=5, since=since).clusters) == 1


def test_a_ticket_inside_an_open_hotspot_of_its_kind_joins_the_nearest_instead_of_forming_one() -> None:
    hotspots = [Hotspot(7, "噪音扰民", LON, LAT), Hotspot(8, "噪音扰民", LON + 600 * M_LON, LAT),
                Hotspot(9, "占道经营", LON + 350 * M_LON, LAT)]
    near_eight = ticket(1, east_m=400)  # 400 m from 7, 200 m from 8, 50 m from the other kind's
    outside = ticket(2, east_m=-700)
    pool = [near_eight, outside] + [ticket(n, east_m=350) for n in range(10, 14)]
    p = plan([near_eight, outside], hotspots, pool, radius_m=500, at_least=5, since=T0 - timedelta(days=7))
    assert p.joins == ((near_eight, 8),)
    assert p.clusters == ()  # the joined ticket no longer counts towards a new hotspot


def test_the_densest_new_ticket_is_the_centre_and_a_second_cluster_forms_apart() -> None:
    west = [ticket(n, east_m=n * 50) for n in range(5)]
    east = [ticket(n, east_m=5000 + n * 50) for n in range(10, 16)]
    everything = west + east
    p = plan(everything, [], everything, radius_m=500, at_least=5, since=T0 - timedelta(days=7))
    assert sorted(len(c.members) for c in p.clusters) == [5, 6]
    listed = [t.event_id for c in p.clusters for t in c.members]
    assert len(listed) == len(set(listed)) == 11  # each ticket in one hotspot only
    big = max(p.clusters, key=lambda c: len(c.members))
    assert big.seed in big.members
