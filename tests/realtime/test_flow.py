"""Flow control rules (rooms/realtime/flow.py) on a clock the test moves."""

from rooms.realtime.flow import Coalescer, FrameBudget, Throttle


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_frame_budget_allows_count_per_sliding_window_then_says_when():
    clock = Clock()
    budget = FrameBudget(3, 10, clock=clock)
    assert [budget.spend() for _ in range(3)] == [None, None, None]
    clock.now += 4
    assert budget.spend() == 6.0  # the first frame leaves the window in 6 s
    clock.now += 6  # t=110: the three frames of t=100 have left the window
    assert [budget.spend() for _ in range(3)] == [None, None, None]
    clock.now += 4
    assert budget.spend() == 6.0  # those of t=110 leave it at t=120


def test_throttle_lets_one_event_per_key_and_interval():
    clock = Clock()
    throttle = Throttle(2.0, clock=clock)
    assert throttle.allow(("alice", 1)) is True
    assert throttle.allow(("alice", 1)) is False
    assert throttle.allow(("alice", 2)) is True  # another room
    assert throttle.allow(("bob", 1)) is True  # another user
    clock.now += 1.9
    assert throttle.allow(("alice", 1)) is False
    clock.now += 0.1
    assert throttle.allow(("alice", 1)) is True


def test_throttle_forgets_keys_of_past_intervals():
    clock = Clock()
    throttle = Throttle(2.0, clock=clock)
    for n in range(2000):
        throttle.allow(n)
    clock.now += 3
    throttle.allow("fresh")
    assert len(throttle.last) <= 1025


def test_coalescer_sends_the_first_at_once_and_the_last_of_a_burst_later():
    clock = Clock()
    reads = Coalescer(1.0, clock=clock)
    assert reads.submit("lobby", 3) is True
    assert [reads.submit("lobby", seq) for seq in (4, 5, 6)] == [False, False, False]
    assert reads.submit("attic", 1) is True  # its own key
    assert reads.next_due_in() == 1.0
    assert reads.due() == []
    clock.now += 1.0
    assert reads.due() == [("lobby", 6)]
    assert reads.next_due_in() is None
    # The burst's value went at t+1: the next one waits until t+2.
    clock.now += 0.5
    assert reads.submit("lobby", 7) is False
    clock.now += 0.5
    assert reads.due() == [("lobby", 7)]
