"""core.fast.parallel_warmup: the warm-up shared between processes, one cache, each function compiled once."""
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from core.fast import parallel_warmup, warmup

ROOT = Path(__file__).resolve().parents[1]

# a function slow enough to compile that two processes started together overlap
SLOW_TO_COMPILE = textwrap.dedent('''
    import numpy as np
    from numba import njit

    @njit(cache=True)
    def busy(x):
        s = 0.0
        for i in range(x.shape[0]):
            v = x[i]
            s += np.sin(v) * np.cos(v) + np.exp(-v * v) + np.sqrt(abs(v)) + np.log1p(abs(v))
            s += np.tanh(v) * np.arctan(v) + np.sinh(v / 9) + np.cosh(v / 9)
        return s
''')

COMPILE_IT = textwrap.dedent('''
    import sys, time
    import numpy as np
    sys.path.insert(0, sys.argv[1])
    share = sys.argv[2] == "1"
    if share:
        from core.fast.parallel_warmup import share_numba_cache
        share_numba_cache()
    import os
    import slow_module
    open(os.path.join(sys.argv[3], str(os.getpid())), "w").close()
    while len(os.listdir(sys.argv[3])) < 2:  # start together
        time.sleep(0.002)
    slow_module.busy(np.ones(3, np.float64 if sys.argv[4] == "f8" else np.float32))
    st = slow_module.busy.stats
    print(sum(st.cache_hits.values()), sum(st.cache_misses.values()))
''')


def _compile_side_by_side(tmp_path, share, dtypes):
    import tempfile

    mod = tmp_path / "mod"
    mod.mkdir(exist_ok=True)
    start = tempfile.mkdtemp(dir=tmp_path)
    source = mod / "slow_module.py"
    if not source.exists():  # rewritten, Numba before 0.68 (mtime stamps) sees new code
        source.write_text(SLOW_TO_COMPILE)
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "cache"),
           "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen([sys.executable, "-c", COMPILE_IT, str(mod), share, start, dt],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
             for dt in dtypes]
    outs = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1][-2000:] for o in outs]
    return [tuple(int(v) for v in o[0].split()) for o in outs]


def test_two_processes_wanting_one_function_compile_it_once(tmp_path):
    # (cache hits, cache misses) of each: one compiles, the other waits and loads it
    results = _compile_side_by_side(tmp_path, "1", ["f4", "f4"])
    assert sorted(results) == [(0, 1), (1, 0)]


def test_two_specialisations_saved_side_by_side_are_both_in_the_cache(tmp_path):
    _compile_side_by_side(tmp_path, "1", ["f4", "f8"])
    # a third process finds both in the index
    again = _compile_side_by_side(tmp_path, "1", ["f4", "f8"])
    assert again == [(1, 0), (1, 0)]


def test_the_workers_share_the_steps_and_report_in_order():
    calls = []
    report = parallel_warmup.warm_up_parallel(2, progress=lambda *a: calls.append(a),
                                              phases=(warmup.INFERENCE,))
    assert report.completed
    labels = [label for label, _, _ in warmup.steps((warmup.INFERENCE,))]
    assert set(report.seconds) == set(report.cpu_seconds) == set(labels)
    done = [c[0] for c in calls]
    assert done == sorted(done) and done[0] == 0 and done[-1] == len(labels)
    assert all(c[1] == len(labels) for c in calls)
    # before the end, the label is the first step (in warm_up's order) not finished yet
    assert all(labels.index(c[2]) <= c[0] for c in calls[:-1])
    assert labels[0].startswith(warmup.DRAWING_PAD)


def test_a_stop_request_ends_the_workers():
    report = parallel_warmup.warm_up_parallel(2, should_stop=lambda: True)
    assert not report.completed


def test_claiming_processes_split_the_steps(tmp_path):
    first = parallel_warmup.warm_up_claiming(str(tmp_path), phases=(warmup.INFERENCE,))
    second = parallel_warmup.warm_up_claiming(str(tmp_path), phases=(warmup.INFERENCE,))
    assert first.completed and second.completed
    assert len(first.seconds) == len(warmup.steps((warmup.INFERENCE,))) and not second.seconds


def test_a_cache_a_whole_warm_up_filled_is_loaded_in_one_process(tmp_path, monkeypatch):
    """A warm launch only loads machine code: it must not pay for starting worker processes."""
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    ran = []

    def fake_warm_up(progress=None, should_stop=None, phases=warmup.PHASES):
        ran.append(phases)
        return warmup.WarmupReport(completed=True)

    def no_workers(*args, **kwargs):
        raise AssertionError("a worker process was started")

    monkeypatch.setattr(warmup, "warm_up", fake_warm_up)
    monkeypatch.setattr(parallel_warmup, "_start_worker", no_workers)
    monkeypatch.setattr(parallel_warmup, "default_jobs", lambda: 2)
    # an empty cache: two workers would be started
    try:
        parallel_warmup.warm_up_parallel()
    except AssertionError as e:
        assert "worker process" in str(e)
    else:
        raise AssertionError("an empty cache did not start workers")
    # after one complete warm-up in this cache (here in one process), none are
    assert parallel_warmup.warm_up_parallel(jobs=1).completed
    assert parallel_warmup.warm_up_parallel().completed
    assert len(ran) == 2


def test_workers_take_the_inference_steps_first_then_the_longest():
    plan = [(label, phase) for label, phase, _ in warmup.steps()]
    order = warmup.dispatch_order(plan)
    assert sorted(order) == list(range(len(plan)))  # every step, once
    phases = [plan[i][1] for i in order]
    n_inference = phases.count(warmup.INFERENCE)
    assert set(phases[:n_inference]) == {warmup.INFERENCE}
    assert order[:n_inference] == sorted(order[:n_inference])  # as planned: the pad first
    rest = [warmup.ESTIMATED_SECONDS[plan[i][0]] for i in order[n_inference:]]
    assert rest == sorted(rest, reverse=True)  # and every later step has an estimate
