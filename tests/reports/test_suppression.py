"""The suppression rules on their own: reasons, cover, classrooms, cells, one decision across
nested month figures."""

from __future__ import annotations

from observe.reports.suppression import (
    COVER,
    TOO_FEW_CLASSROOMS,
    TOO_FEW_RATINGS,
    TOO_FEW_WALKTHROUGHS,
    Rules,
    Series,
    consistent,
    hide,
    hide_cells,
    note,
)

RULES = Rules(min_group=10, min_classrooms=3, min_cell=10)


def test_a_group_of_one_classroom_is_hidden_however_often_it_was_seen():
    sizes = {"AP": 12, "general": 40, "honors": 30}
    classrooms = {"AP": 1, "general": 9, "honors": 6}
    hidden = hide(sizes, classrooms, RULES)
    # AP alone would be the total minus the others: honors (the smaller) is its cover.
    assert hidden == {"AP": TOO_FEW_CLASSROOMS, "honors": COVER}
    assert note(hidden) == (
        "2 groups not shown: 1 with too few classrooms; "
        "1 hidden so that a smaller figure cannot be worked out."
    )


def test_cover_leaves_the_largest_hidden_part_able_to_have_been_shown():
    # 3 and 7 hidden: 10 together, but then either is at most 9: the reader would know both
    # were too small. With 3 and 8, either could be 10: no cover needed.
    hidden = hide({"a": 3, "b": 7, "c": 50, "d": 60}, {"a": 3, "b": 3, "c": 9, "d": 9}, RULES)
    assert hidden == {"a": TOO_FEW_WALKTHROUGHS, "b": TOO_FEW_WALKTHROUGHS, "c": COVER}
    hidden = hide({"a": 3, "b": 8, "c": 50, "d": 60}, {"a": 3, "b": 3, "c": 9, "d": 9}, RULES)
    assert hidden == {"a": TOO_FEW_WALKTHROUGHS, "b": TOO_FEW_WALKTHROUGHS}


def test_the_newest_month_is_cover_last():
    months = {"2026-08": 8, "2026-09": 36, "2026-10": 36}
    classrooms = dict.fromkeys(months, 5)
    hidden = hide(months, classrooms, RULES, overlapping=True, spare="2026-10")
    assert hidden == {"2026-08": TOO_FEW_WALKTHROUGHS, "2026-09": COVER}


def test_a_cell_on_few_ratings_shows_its_n_and_gets_cover():
    assert hide_cells({"a": 6, "b": 20, "c": 30}, RULES) == {"a": TOO_FEW_RATINGS, "b": COVER}
    # A hidden group's 4 ratings of the look-for are given away by the overall figure unless a
    # shown cell is hidden with them.
    assert hide_cells({"b": 20, "c": 30}, RULES, hidden_parts=[4]) == {"b": COVER}
    assert hide_cells({"b": 20, "c": 30}, RULES, hidden_parts=[14]) == {}


def test_a_goal_shows_no_month_the_trend_beside_it_hides():
    trend = Series(
        frozenset({1}),
        7,
        {"2026-08": 8, "2026-09": 40, "2026-10": 36},
        dict.fromkeys(("2026-08", "2026-09", "2026-10"), 5),
        {},
        total_shown=True,
    )
    goal = Series(
        frozenset({1}),
        7,
        {"2026-08": 8, "2026-09": 40, "2026-10": 36, "2026-11": 30},
        dict.fromkeys(("2026-08", "2026-09", "2026-10", "2026-11"), 5),
        {},
    )
    consistent([trend, goal], {}, RULES)
    # September, not October, is cover: the newest month stays the goal's latest.
    assert trend.hidden == {"2026-08": TOO_FEW_WALKTHROUGHS, "2026-09": COVER}
    assert goal.hidden == trend.hidden  # the same months, for the same reasons


def test_a_district_month_minus_school_goals_must_not_single_out_a_school():
    per_school = {(7, "2026-09", 1): (40, 6), (7, "2026-09", 2): (4, 1), (7, "2026-09", 3): (30, 5)}
    district = Series(None, 7, {"2026-09": 74}, {"2026-09": 12}, {})
    one = Series(frozenset({1}), 7, {"2026-09": 40}, {"2026-09": 6}, {})
    three = Series(frozenset({3}), 7, {"2026-09": 30}, {"2026-09": 5}, {})
    consistent([district, one, three], per_school, RULES)
    # 74 - 40 - 30 = school 2's 4 walkthroughs: the district's September is hidden.
    assert district.hidden == {"2026-09": COVER}
    assert one.hidden == {} and three.hidden == {}


def test_part_of_a_month_beside_the_whole_month_is_cover():
    """Review A1: a goal counting from the 15th beside the trend's whole September gives away
    the 1st to the 14th by subtraction; the goal's September is hidden, not the trend's."""
    from datetime import date

    months = {"2026-09": 40, "2026-10": 36}
    trend = Series(frozenset({1}), frozenset({7}), dict(months), dict.fromkeys(months, 5), {},
                   total_shown=True, window=(date(2026, 9, 1), date(2026, 10, 31)))  # fmt: skip
    goal = Series(frozenset({1}), frozenset({7}), {"2026-09": 37, "2026-10": 36},
                  dict.fromkeys(months, 5), {}, partial=frozenset({"2026-09"}),
                  window=(date(2026, 9, 15), date(2027, 6, 1)))  # fmt: skip
    consistent([trend, goal], {}, RULES)
    assert goal.hidden == {"2026-09": COVER} and trend.hidden == {}
    # The trend's part of a month beside a goal's whole one: the goal gives way again.
    trend = Series(frozenset({1}), frozenset({7}), dict(months), dict.fromkeys(months, 5), {},
                   total_shown=True, partial=frozenset({"2026-09"}),
                   window=(date(2026, 9, 10), None))  # fmt: skip
    goal = Series(None, frozenset({7}), dict(months), dict.fromkeys(months, 5), {},
                  window=(date(2026, 9, 1), None))  # fmt: skip
    consistent([trend, goal], {}, RULES)
    assert goal.hidden == {"2026-09": COVER} and trend.hidden == {}


def test_the_same_days_of_the_same_scope_are_one_figure():
    """A goal and the trend both counting from the school year's first day (mid-August): the
    same walkthroughs, shown alike; a school's goal beside them is a part and gives way."""
    from datetime import date

    months = {"2026-08": 20, "2026-09": 40}
    start = date(2026, 8, 12)
    trend = Series(
        None,
        frozenset({7}),
        dict(months),
        dict.fromkeys(months, 5),
        {},
        total_shown=True,
        partial=frozenset({"2026-08"}),
        window=(start, None),
    )
    district = Series(
        None,
        frozenset({7}),
        dict(months),
        dict.fromkeys(months, 5),
        {},
        partial=frozenset({"2026-08"}),
        window=(start, None),
    )
    school = Series(frozenset({1}), frozenset({7}), {"2026-08": 12}, {"2026-08": 4}, {},
                    partial=frozenset({"2026-08"}), window=(start, None))  # fmt: skip
    consistent([trend, district, school], {}, RULES)
    assert trend.hidden == {} and district.hidden == {}
    assert school.hidden == {"2026-08": COVER}
