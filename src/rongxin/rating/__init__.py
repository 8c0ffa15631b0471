"""Credit evaluation (E1, E2): the indicator system, scorecards, full-coverage batch rating."""
