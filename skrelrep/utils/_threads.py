"""Row pieces worked on by several threads, each with a single-threaded BLAS.

A matrix product that is cheap next to the memory it moves gains nothing from a
multi-threaded BLAS alone: the passes around it (row norms, scaling, centring) run
on one thread in NumPy. Giving each thread whole pieces of rows, the passes and the
product of a piece together while the piece is in that core's cache, keeps every
core busy for all of it. The number of threads is what the BLAS would use (so a
user's ``threadpoolctl`` limit is respected), and the BLAS is held at one thread
meanwhile so that the threads do not oversubscribe the cores.
"""

import functools
import threading
from concurrent.futures import ThreadPoolExecutor

__all__ = ["blas_threads", "run_pieces", "single_threaded_blas"]


@functools.cache
def _controller():
    # Scanning the loaded libraries takes tens of milliseconds: once per process.
    # NumPy (and with it its BLAS) is loaded before any of this runs.
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController().select(user_api="blas")


def blas_threads():
    """How many threads the BLAS libraries would use now (at least 1)."""
    return max([lib.num_threads for lib in _controller().lib_controllers] or [1])


_lock = threading.Lock()
_holders = 0
_limit = None


class single_threaded_blas:
    """Hold the BLAS libraries at one thread; restore them when the last holder exits.

    Counted, so that transforms running at once in several threads of a program do not
    restore each other's limit too early (or keep a limit forever).
    """

    def __enter__(self):
        global _holders, _limit
        with _lock:
            if _holders == 0:
                _limit = _controller().limit(limits=1)
            _holders += 1
        return self

    def __exit__(self, *exc_info):
        global _holders, _limit
        with _lock:
            _holders -= 1
            if _holders == 0:
                _limit.restore_original_limits()
                _limit = None
        return False


def run_pieces(work, pieces, n_threads, make_workspace=lambda: None):
    """Call ``work(piece, workspace)`` for every piece, on up to ``n_threads`` threads.

    Each thread takes the next piece when it is done with one (the machine may be
    shared: no fixed split), and owns one ``make_workspace()`` (its buffers). With
    more than one thread the BLAS is single-threaded meanwhile. The first exception
    (or a KeyboardInterrupt) stops every thread after its current piece and is raised.
    """
    pieces = list(pieces)
    n_threads = max(1, min(n_threads, len(pieces)))
    if n_threads == 1:
        workspace = make_workspace()
        for piece in pieces:
            work(piece, workspace)
        return
    queue = iter(pieces)
    taking = threading.Lock()
    stop = threading.Event()

    def worker():
        workspace = make_workspace()
        while not stop.is_set():
            with taking:
                piece = next(queue, None)
            if piece is None:
                return
            try:
                work(piece, workspace)
            except BaseException:
                stop.set()  # the other threads stop after their current piece
                raise

    with single_threaded_blas(), ThreadPoolExecutor(n_threads) as executor:
        futures = [executor.submit(worker) for _ in range(n_threads)]
        try:
            for future in futures:
                future.result()
        except BaseException:
            stop.set()
            raise
