"""bench/scenarios.py's own arithmetic: the server's delivery-lag histogram
of a run, from two scrapes of its cumulative buckets."""

from bench.scenarios import LAG_BUCKETS, _lag_histogram


def bucket(bound: str) -> str:
    return f'{LAG_BUCKETS}{{le="{bound}"}}'


def test_the_lag_histogram_counts_the_run_s_entries_per_bucket():
    before = {bucket("0.01"): 5.0, bucket("0.025"): 7.0, bucket("+Inf"): 7.0}
    after = {bucket("0.01"): 22.0, bucket("0.025"): 207.0, bucket("+Inf"): 208.0}
    assert _lag_histogram(before, after) == {"≤10": 17, "≤25": 183, "≤inf": 1}


def test_no_metrics_no_histogram():
    assert _lag_histogram({}, {}) is None
