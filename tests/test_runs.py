"""Run records as a learner uses them: every run kept and named, exports that other tools
open (CSV in any spreadsheet, event files in `tensorboard --logdir`) with the right values."""
import csv
import math
import struct

import numpy as np
import pytest

from core.teaching.runs import LogTable, Run, RunStore, export_csv, export_tensorboard, write_csv


def _sample_run(n_epochs=3, steps_per_epoch=4, with_nan=False) -> Run:
    run = Run("adam lr=0.01", {"optimizer": "adam", "learning_rate": 0.01, "batch_size": 32,
                               "hidden": [64, 32]}, run_id=7)
    run.updates_per_epoch = steps_per_epoch
    rng = np.random.default_rng(0)
    step = 0
    for e in range(n_epochs):
        for b in range(steps_per_epoch):
            step += 1
            loss = 2.0 / step + 0.01 * rng.random()
            if with_nan and e == n_epochs - 1 and b == steps_per_epoch - 1:
                loss = float("nan")
            run.add_batch({"step": step, "epoch": e + (b + 1) / steps_per_epoch,
                           "time": 0.125 * step, "loss": loss, "accuracy": 0.1 * e + 0.01 * b})
        run.add_epoch({"step": step, "epoch": e + 1, "time": 0.125 * step,
                       "loss": 1.0 / (e + 1), "accuracy": 0.5 + 0.1 * e,
                       "val_loss": 1.2 / (e + 1), "val_accuracy": 0.45 + 0.1 * e})
    return run


# --- log tables and the store -------------------------------------------------------
def test_log_table_grows_and_fills_missing_with_nan():
    t = LogTable(("step",))
    for i in range(1000):
        row = {"step": i + 1, "loss": 1.0 / (i + 1)}
        if i % 2:
            row["extra"] = i
        t.append(row)
    assert len(t) == 1000
    np.testing.assert_array_equal(t.column("step"), np.arange(1, 1001))
    assert np.isnan(t.column("extra")[0]) and t.column("extra")[1] == 1
    assert t.last("loss") == pytest.approx(1 / 1000)
    assert np.all(np.isnan(t.get("never")))
    with pytest.raises(ValueError):
        t.column("step")[0] = 5.0   # a view handed to a plot cannot be changed by it


def test_store_keeps_every_run_named_uniquely():
    store = RunStore()
    a = store.new_run({"lr": 0.1})
    b = store.new_run({"lr": 0.01})
    c = store.new_run({"lr": 0.01}, name="run 1")
    assert [r.name for r in store] == ["run 1", "run 2", "run 1 (2)"]
    assert len({a.color_index, b.color_index, c.color_index}) == 3
    assert store.rename(b.id, "  small lr ") == "small lr"
    with pytest.raises(ValueError, match="already"):
        store.rename(a.id, "small lr")
    with pytest.raises(ValueError):
        store.rename(a.id, "   ")
    assert store.get(c.id) is c
    store.remove(a.id)
    assert store.names() == ["small lr", "run 1 (2)"]


def test_results_summarise_the_last_epoch():
    run = _sample_run()
    res = run.results()
    assert res["steps"] == 12 and res["epochs_done"] == 3 and res["updates_per_epoch"] == 4
    assert res["time"] == pytest.approx(1.5)
    assert res["val_loss"] == pytest.approx(0.4)
    assert res["time_per_update"] == pytest.approx(1.5 / 12)
    assert res["time_per_epoch"] == pytest.approx(1.5 / 3)


# --- CSV --------------------------------------------------------------------------------
def test_csv_reads_back_with_the_exact_values(tmp_path):
    run = _sample_run(with_nan=True)
    epochs_path, batches_path = export_csv(run, tmp_path / "my run.csv")
    assert epochs_path.name == "my run.csv" and batches_path.name == "my run-batches.csv"
    with open(epochs_path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0])[:3] == ["step", "epoch", "time"]
    assert set(rows[0]) == {"step", "epoch", "time", "loss", "accuracy", "val_loss",
                            "val_accuracy"}
    assert len(rows) == 3
    for i, row in enumerate(rows):
        assert int(row["epoch"]) == i + 1
        assert float(row["loss"]) == 1.0 / (i + 1)           # full precision, exactly
        assert float(row["val_accuracy"]) == 0.45 + 0.1 * i
    with open(batches_path, newline="") as fh:
        brows = list(csv.DictReader(fh))
    assert len(brows) == 12
    losses = run.batches.column("loss")
    for row, want in zip(brows[:-1], losses[:-1]):
        assert float(row["loss"]) == want
    assert brows[-1]["loss"] == "nan" and math.isnan(float(brows[-1]["loss"]))


def test_csv_of_an_empty_run_has_only_the_header(tmp_path):
    path = write_csv(Run("empty"), tmp_path / "e.csv")
    assert path.read_text().strip() == "step,epoch,time"


# --- TensorBoard --------------------------------------------------------------------------
def _crc32c_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_TABLE = _crc32c_table()


def _masked_crc32c(data: bytes) -> int:
    """TFRecord's checksum, written from its specification (Castagnoli CRC, then masked)."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc = _TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    crc ^= 0xFFFFFFFF
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def _read_events(folder):
    """Every scalar in the event files of `folder`, parsed as TensorBoard reads them:
    TFRecord framing (length, masked CRCs) and Event protobufs."""
    from tensorboardX.proto import event_pb2

    files = sorted(folder.glob("events.out.tfevents.*"))
    assert files, f"no event file in {folder}"
    scalars, texts, version = {}, {}, None
    for f in files:
        data = f.read_bytes()
        pos = 0
        while pos < len(data):
            header = data[pos:pos + 8]
            (length,) = struct.unpack("<Q", header)
            (hcrc,) = struct.unpack("<I", data[pos + 8:pos + 12])
            assert hcrc == _masked_crc32c(header)
            body = data[pos + 12:pos + 12 + length]
            (bcrc,) = struct.unpack("<I", data[pos + 12 + length:pos + 16 + length])
            assert bcrc == _masked_crc32c(body)
            pos += 16 + length
            event = event_pb2.Event.FromString(body)
            if event.file_version:
                version = event.file_version
            for v in event.summary.value:
                if v.HasField("simple_value"):
                    scalars.setdefault(v.tag, []).append((event.step, v.simple_value,
                                                          event.wall_time))
                elif v.HasField("tensor"):
                    texts[v.tag] = b"".join(v.tensor.string_val).decode()
    assert version == "brain.Event:2"
    return scalars, texts


def test_tensorboard_files_read_back_with_the_right_values(tmp_path):
    run = _sample_run()
    run.stop_reason = None
    folder = export_tensorboard(run, tmp_path)
    assert folder == tmp_path / "adam lr=0.01"
    train, texts = _read_events(folder / "train")
    val, _ = _read_events(folder / "validation")

    f32 = lambda v: float(np.float32(v))  # noqa: E731 - simple_value is a float32
    assert [(s, v) for s, v, _ in train["epoch_loss"]] == [(0, 1.0), (1, f32(0.5)),
                                                            (2, f32(1 / 3))]
    assert [(s, v) for s, v, _ in val["epoch_loss"]] == [(e, f32(1.2 / (e + 1)))
                                                         for e in range(3)]
    assert [(s, v) for s, v, _ in val["epoch_accuracy"]] == [(e, f32(0.45 + 0.1 * e))
                                                             for e in range(3)]
    assert "val_loss" not in train and "epoch_val_loss" not in train
    batch = train["batch_loss"]
    assert [s for s, _, _ in batch] == list(range(1, 13))
    np.testing.assert_array_equal([v for _, v, _ in batch],
                                  run.batches.column("loss").astype(np.float32))
    # wall time: the run's start plus its training seconds
    assert batch[3][2] == pytest.approx(run.start_time + 0.5, abs=1e-3)
    assert "learning_rate" in texts["settings/text_summary"]


def test_tensorboard_export_never_mixes_into_an_existing_run_folder(tmp_path):
    run = _sample_run()
    first = export_tensorboard(run, tmp_path)
    second = export_tensorboard(run, tmp_path)
    assert first != second and second.name == "adam lr=0.01 (2)"
    train, _ = _read_events(second / "train")
    assert len(train["epoch_loss"]) == 3     # not six: nothing appended to the first


def test_run_names_become_safe_folder_names(tmp_path):
    run = _sample_run()
    run.name = "../../evil/run: 1"
    folder = export_tensorboard(run, tmp_path)
    assert folder.parent == tmp_path
    assert "/" not in folder.name and ":" not in folder.name
