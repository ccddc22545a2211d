"""Small-hand search geometry: tiles that cover the frame, and duplicate merging."""

import pytest

from realtime.hands.tiles import box_iou, is_duplicate, tile_boxes


def test_tiles_cover_the_frame_and_overlap():
    tiles = tile_boxes(640, 480, 0.6, 2)
    assert tiles == [(0, 0, 384, 288), (256, 0, 640, 288), (0, 192, 384, 480), (256, 192, 640, 480)]
    covered = {(x, y) for x0, y0, x1, y1 in tiles for x in range(x0, x1, 16) for y in range(y0, y1, 16)}
    assert {(x, y) for x in range(0, 640, 16) for y in range(0, 480, 16)} <= covered


def test_tiles_that_cannot_cover_are_refused():
    with pytest.raises(ValueError):
        tile_boxes(100, 100, 0.4, 2)


def test_iou_and_duplicates():
    assert box_iou((0, 0, 10, 10), (0, 0, 10, 10)) == 1.0
    assert box_iou((0, 0, 10, 10), (20, 20, 30, 30)) == 0.0
    assert box_iou((0, 0, 10, 10), (5, 0, 15, 10)) == pytest.approx(1 / 3)
    assert is_duplicate((1, 1, 11, 11), [(50, 50, 60, 60), (0, 0, 10, 10)])
    assert not is_duplicate((1, 1, 11, 11), [(50, 50, 60, 60)])
