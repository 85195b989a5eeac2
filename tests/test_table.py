"""The one table base: the five central types index, mask, join, empty, replace and align alike."""

from __future__ import annotations

import dataclasses
import pickle

import numpy as np
import pytest

from thresher import Detections, Embeddings, Frames, SchemaError, Scores, Selection, UsageError
from thresher.table import Table, TableIndexError

IDS = ["clips/bikes-000-mp4.png", "clips/bikes-001-mp4.png", "img/street.jpg"]


def frames() -> Frames:
    return Frames.build(IDS, kind=["frame", "frame", "image"], video=["clips/bikes.mp4", "clips/bikes.mp4", "img/street.jpg"],
                        frame_index=[0, 1, 0], width=[320, 320, 640], height=[240, 240, 480])  # fmt: skip


def detections() -> Detections:
    """Every optional column present, so a rebuild that drops one shows."""
    return Detections(
        frame=[0, 0, 2], xyxy=[[10, 20, 50, 60], [0, 0, 5, 5], [100, 80, 300, 200]], score=[0.9, 0.3, 0.6], class_id=[3, 1, 3],
        probs=[[0.1, 0.9], [0.7, 0.3], [0.4, 0.6]], box_std=np.full((3, 4), 1.5), track_id=[7, -1, 8],
        box_spread=np.full((3, 4), 0.5), class_spread=[0.01, 0.2, 0.05],
    )  # fmt: skip


def scores() -> Scores:
    return Scores(IDS, {"entropy": [0.5, np.nan, 0.9], "margin": [0.1, 0.2, 0.3]})


def embeddings() -> Embeddings:
    return Embeddings(IDS, np.arange(12, dtype=np.float32).reshape(3, 4))


def selection() -> Selection:
    return Selection(IDS[::-1], [3.0, 2.0, np.nan], {"n_samples": 3, "strategies": []})


MAKERS = [frames, detections, scores, embeddings, selection]
KEYED = [frames, scores, embeddings, selection]


def columns(table: Table) -> dict[str, np.ndarray | None]:
    """Every per-row array of a table (the score columns of `Scores` one by one)."""
    out: dict[str, np.ndarray | None] = {}
    for field in dataclasses.fields(table):
        value = getattr(table, field.name)
        if isinstance(value, dict) and field.name == "columns":
            out.update({f"columns.{k}": v for k, v in value.items()})
        elif value is None or isinstance(value, np.ndarray):
            out[field.name] = value
    return out


def assert_same(a: Table, b: Table) -> None:
    assert type(a) is type(b)
    left, right = columns(a), columns(b)
    assert left.keys() == right.keys()
    for name in left:
        if left[name] is None:
            assert right[name] is None, name
        else:
            np.testing.assert_array_equal(left[name], right[name], err_msg=name)
            assert left[name].dtype.kind == right[name].dtype.kind, name


def others(table: Table) -> dict:
    """The fields that are not per-row arrays (Selection.config)."""
    return {f.name: getattr(table, f.name) for f in dataclasses.fields(table) if "column" not in f.metadata}


@pytest.mark.parametrize("make", MAKERS)
def test_an_integer_gives_a_table_of_that_one_row(make):
    table = make()
    for row in (0, 2, -1, np.int64(1)):
        one = table[row]
        assert type(one) is type(table) and len(one) == 1
        assert_same(one, table[[int(row)]])
        assert others(one) == others(table)
    assert_same(table[-1], table[2])


@pytest.mark.parametrize("make", MAKERS)
def test_slice_mask_and_rows_take_the_same_rows_in_a_new_table(make):
    table = make()
    assert_same(table[1:], table[np.array([False, True, True])])
    assert_same(table[1:], table[[1, 2]])
    assert_same(table[::-1], table[np.array([2, 1, 0])])
    assert len(table[[]]) == 0 and len(table[np.zeros(3, bool)]) == 0
    assert_same(table[:], table)
    assert table[:] is not table


@pytest.mark.parametrize("make", MAKERS)
@pytest.mark.parametrize("length", [2, 4, 0])
def test_a_mask_of_the_wrong_length_is_one_error_naming_the_type_and_both_lengths(make, length):
    table = make()
    name = type(table).__name__
    with pytest.raises(TableIndexError, match=rf"^{name}: a boolean mask of length {length} for 3 rows; expected one value per row \(length 3\)$"):
        table[np.ones(length, bool)]


@pytest.mark.parametrize("make", MAKERS)
@pytest.mark.parametrize("rows", [3, -4, [0, 5], np.array([-9])])
def test_a_row_out_of_range_is_an_index_error_naming_the_type(make, rows):
    table = make()
    with pytest.raises(TableIndexError, match=rf"^{type(table).__name__}: row -?\d+ is out of range for 3 rows$") as caught:
        table[rows]
    assert isinstance(caught.value, IndexError) and isinstance(caught.value, SchemaError)


@pytest.mark.parametrize("make", MAKERS)
@pytest.mark.parametrize("rows", [np.array([0.0, 1.0]), np.ones((3, 3), bool), np.zeros((1, 2), np.int64), True])
def test_an_index_of_another_kind_is_refused(make, rows):
    with pytest.raises(TableIndexError, match=type(make()).__name__):
        make()[rows]


@pytest.mark.parametrize("make", MAKERS)
def test_iterating_gives_each_row_once(make):
    table = make()
    rows = list(table)  # ends at the IndexError of the row after the last
    assert len(rows) == 3
    assert_same(type(table).concat(rows), table)


@pytest.mark.parametrize("make", MAKERS)
def test_concat_joins_rows_and_keeps_the_first_tables_other_fields(make):
    table = make()
    cls = type(table)
    assert_same(cls.concat([table[:1], table[1:]]), table)
    assert_same(cls.concat([table[:0], table, table[:0]]), table)
    assert others(cls.concat([table[:1], table[1:]])) == others(table)
    assert len(cls.concat([])) == 0 and type(cls.concat([])) is cls


@pytest.mark.parametrize("make", MAKERS)
def test_concat_refuses_a_table_of_another_type(make):
    table = make()
    stranger = scores() if not isinstance(table, Scores) else frames()
    with pytest.raises(SchemaError, match=rf"{type(table).__name__}.concat: expected {type(table).__name__} tables, got a {type(stranger).__name__}"):
        type(table).concat([table, stranger])


def test_concat_names_what_differs():
    with pytest.raises(SchemaError, match=r"Scores.concat: columns differ: \['entropy', 'margin'\] vs \['margin'\]"):
        Scores.concat([scores(), Scores(["x"], {"margin": [1.0]})])
    with pytest.raises(SchemaError, match="Embeddings.vectors: the tables' widths differ: \\[2, 4\\]"):
        Embeddings.concat([embeddings(), Embeddings(["x"], [[1, 2]])])
    with pytest.raises(SchemaError, match="Detections.concat: column 'track_id' is present in some tables only"):
        Detections.concat([detections(), detections().replace(track_id=None)])
    # a table of zero rows joins whatever its width
    assert Embeddings.concat([Embeddings.empty(), embeddings()]).dim == 4


@pytest.mark.parametrize("make", MAKERS)
def test_empty_has_zero_rows_and_behaves_like_any_table(make):
    cls = type(make())
    empty = cls.empty()
    assert type(empty) is cls and len(empty) == 0
    assert len(empty[[]]) == 0 and len(empty[np.zeros(0, bool)]) == 0 and len(empty[:5]) == 0
    with pytest.raises(TableIndexError, match=rf"{cls.__name__}: row 0 is out of range for 0 rows"):
        empty[0]
    assert len(cls.concat([empty, empty])) == 0


@pytest.mark.parametrize("make", MAKERS)
def test_replace_changes_one_column_and_keeps_every_other(make):
    table = make()
    first = next(name for name, value in columns(table).items() if value is not None and not name.startswith("columns."))
    changed = table[::-1]
    rebuilt = table.replace(**{first: getattr(changed, first)})
    for name, value in columns(rebuilt).items():
        expected = columns(changed if name == first else table)[name]
        np.testing.assert_array_equal(value, expected, err_msg=name)
    assert others(rebuilt) == others(table)


@pytest.mark.parametrize("make", MAKERS)
def test_a_rebuilt_table_is_checked_again(make):
    table = make()
    first = next(iter(columns(table)))
    with pytest.raises(SchemaError, match="expected 3 rows like the other columns, got 2|expected 2 rows like the other columns, got 3"):
        table.replace(**{first: getattr(table, first)[:2]})


@pytest.mark.parametrize("make", MAKERS)
def test_tables_survive_pickling(make):
    """The Ray engine ships tables to its workers."""
    table = make()
    assert_same(pickle.loads(pickle.dumps(table)), table)


@pytest.mark.parametrize("make", KEYED)
def test_align_gives_rows_in_the_order_of_the_ids(make):
    table = make()
    ids = np.array(["img/street.jpg", "clips/bikes-000-mp4.png"])
    aligned = table.align(ids)
    rows = table.index_of(ids)
    assert_same(aligned, table[rows])
    assert getattr(aligned, table._key).tolist() == ids.tolist()


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (frames, "Frames: unknown sample id 'img/none.jpg'"),
        (embeddings, "Embeddings: no vector for sample 'img/none.jpg'"),
        (selection, "Selection: sample 'img/none.jpg' is not selected"),
        (scores, "Scores: unknown sample id 'img/none.jpg'"),
    ],
)
def test_an_id_the_table_lacks_is_named(make, message):
    with pytest.raises(SchemaError, match=f"^{message}$"):
        make().index_of(["img/street.jpg", "img/none.jpg"])
    if make is not scores:
        with pytest.raises(SchemaError, match=f"^{message}$"):
            make().align(["img/none.jpg"])


def test_scores_align_fills_what_it_lacks_with_nan():
    aligned = scores().align(["img/none.jpg", "img/street.jpg"])
    assert np.isnan(aligned["margin"][0]) and aligned["margin"][1] == 0.3


def test_detections_have_no_sample_id_to_align_on():
    with pytest.raises(UsageError, match="Detections: its rows have no sample id to look up"):
        detections().align(["img/street.jpg"])


def test_selection_zero_is_the_first_pick():
    """`Selection[0]` once raised a SchemaError about its ids (a 0-d string)."""
    first = selection()[0]
    assert first.ids.tolist() == ["img/street.jpg"] and first.config == {"n_samples": 3, "strategies": []}


def test_columns_are_coerced_and_checked_as_declared():
    assert Frames.build(["a"]).frame_index.dtype == np.int64
    assert Embeddings(["a"], [[1, 2]]).vectors.dtype == np.float32
    assert Detections(frame=[], xyxy=[], score=[], class_id=[]).xyxy.shape == (0, 4)
    with pytest.raises(SchemaError, match=r"Detections.box_std: expected shape \(M, 4\), got \(1, 3\)"):
        Detections(frame=[0], xyxy=[[0, 0, 1, 1]], score=[1], class_id=[0], box_std=[[1, 1, 1]])
    with pytest.raises(SchemaError, match=r"Scores\['entropy'\]: expected 1 rows like the other columns, got 2"):
        Scores(["a"], {"entropy": [1, 2]})
    with pytest.raises(SchemaError, match="Selection.objective: expected numbers of type float64"):
        Selection(["a"], ["high"])
