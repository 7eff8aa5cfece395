"""Time helpers: a controllable clock and Beijing calendar keys.

Real-platform rules mimicked: WeChat counts daily quotas (token calls, forced
stable_token refreshes) per calendar day and mass-send limits (4 per follower)
per calendar month, both in Beijing time (UTC+8); WeChat Pay ``time_end`` is a
Beijing ``yyyyMMddHHmmss`` string.
"""

import threading
import time

BEIJING_OFFSET = 8 * 3600


class FakeClock:
    """A callable clock for tests: ``clock()`` returns epoch seconds.

    ``clock.advance(s)`` moves it forward; nothing ever sleeps.
    """

    def __init__(self, start=1700000000.0):
        self._t = float(start)
        self._lock = threading.Lock()

    def __call__(self):
        with self._lock:
            return self._t

    def advance(self, seconds):
        with self._lock:
            self._t += float(seconds)
            return self._t

    def set(self, t):
        with self._lock:
            self._t = float(t)


def beijing(t):
    return time.gmtime(t + BEIJING_OFFSET)


def day_key(t):
    s = beijing(t)
    return s.tm_year * 1000 + s.tm_yday


def month_key(t):
    s = beijing(t)
    return s.tm_year * 100 + s.tm_mon


def beijing_compact(t):
    return time.strftime("%Y%m%d%H%M%S", beijing(t))
