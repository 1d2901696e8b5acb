//! Evidence, before a purge, that Warp 10 holds nothing more of the archived series than the
//! archive does — evidence shaped differently from the fetch that made the archive.
//!
//! The threat: a short answer that is the same every time (a proxy ending a close-delimited
//! body, a size or point limit, a server bug) gives a clean but incomplete archive, and a second
//! fetch of the same range is cut at the same place, so comparing the two proves nothing.
//! Every such cut keeps a *prefix* of the answer (series after series, newest point first), so
//! what an archive made from it lacks is the tail: the older points of the last series it holds,
//! and the series after it.
//!
//! So the range is re-fetched in time windows, each holding fewer archived points than the whole
//! archive, and each window's points of archived series are compared with the archive's, cell by
//! cell of a fine time grid (count and digest). Take a point `x` of an archived series that the
//! archive lacks, in window `W`. If `W`'s answer is complete it holds `x`: mismatch. If `W`'s
//! answer is cut too, the cut needs a budget (points or bytes) at least the whole first answer,
//! which held every archived point, while `W` holds fewer: its answer then goes past the
//! archived points of `W` into the next points of the series order — `x` or a point the archive
//! also lacks: mismatch again. A cut dropping only the last line of every answer fails in every
//! window whose last line is archived, and there are at least two windows with archived points.
//! The windows are chosen so that no window holds every archived point: groups of grid cells of
//! about an eighth of the archive each, a cell alone when it holds more.
//!
//! Limits (README "Purge safety"): the argument needs the series order of a window's answer to
//! be that of the full answer (Warp 10 prints series in directory order, the same for every
//! request); a server that lies selectively (different answers to different windows on purpose)
//! is not in scope — a token holder can delete directly.

use crate::digest::{Digest, SeriesHash};
use crate::gts::{Point, SeriesKey};
use std::collections::HashMap;

/// Cells of the time grid over a range.
const CELLS: i64 = 4096;
/// Windows aimed for (more when single cells are heavy).
const WINDOWS: u64 = 8;

/// Points and digest of one grid cell.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cell {
    pub points: u64,
    pub digest: Digest,
}

/// A fine time grid over the inclusive range `[lo, hi]`, with the archived points (or the
/// re-fetched points of archived series) of each cell.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grid {
    lo: i64,
    hi: i64,
    cells: Vec<Cell>,
}

impl Grid {
    pub fn new(lo: i64, hi: i64) -> Grid {
        assert!(lo <= hi, "grid over an empty range");
        let n = (i128::from(hi) - i128::from(lo) + 1).min(i128::from(CELLS)) as usize;
        Grid {
            lo,
            hi,
            cells: vec![Cell::default(); n],
        }
    }

    /// An empty grid of the same shape.
    pub fn empty_like(&self) -> Grid {
        Grid::new(self.lo, self.hi)
    }

    fn span(&self) -> i128 {
        i128::from(self.hi) - i128::from(self.lo) + 1
    }

    /// Adds a point; false when its timestamp is outside the grid.
    pub fn add(&mut self, series: &SeriesHash, p: &Point) -> bool {
        if p.ts < self.lo || p.ts > self.hi {
            return false;
        }
        let i = (i128::from(p.ts) - i128::from(self.lo)) * self.cells.len() as i128 / self.span();
        let cell = &mut self.cells[i as usize];
        cell.points += 1;
        cell.digest.add(series, p);
        true
    }

    /// Adds every cell of `other` (same shape) to this grid.
    pub fn merge(&mut self, other: &Grid) {
        debug_assert_eq!(
            (self.lo, self.hi, self.cells.len()),
            (other.lo, other.hi, other.cells.len())
        );
        for (a, b) in self.cells.iter_mut().zip(&other.cells) {
            a.points += b.points;
            a.digest.merge(&b.digest);
        }
    }

    pub fn points(&self) -> u64 {
        self.cells.iter().map(|c| c.points).sum()
    }

    pub fn occupied_cells(&self) -> usize {
        self.cells.iter().filter(|c| c.points > 0).count()
    }

    /// First timestamp of cell `i` (the smallest `ts` whose cell index is `i`).
    fn cell_start(&self, i: usize) -> i64 {
        let n = self.cells.len() as i128;
        let off = (i as i128 * self.span() + n - 1) / n;
        (i128::from(self.lo) + off) as i64
    }

    /// The inclusive windows to re-fetch over `[start, end]` (which contains the grid): the part
    /// before the grid, groups of cells of about `1/WINDOWS` of the points (a cell alone when it
    /// holds more), the part after the grid. Unless every point sits in one cell, no window
    /// holds every point.
    pub fn windows(&self, start: i64, end: i64) -> Vec<(i64, i64)> {
        let mut out = Vec::new();
        if start < self.lo {
            out.push((start, self.lo - 1));
        }
        let per = self.points().div_ceil(WINDOWS).max(1);
        let (mut from, mut acc) = (0usize, 0u64);
        for (i, cell) in self.cells.iter().enumerate() {
            if acc > 0 && acc + cell.points > per {
                out.push((self.cell_start(from), self.cell_start(i) - 1));
                (from, acc) = (i, 0);
            }
            acc += cell.points;
            if acc >= per {
                let next = if i + 1 < self.cells.len() {
                    self.cell_start(i + 1) - 1
                } else {
                    self.hi
                };
                out.push((self.cell_start(from), next));
                (from, acc) = (i + 1, 0);
            }
        }
        if from < self.cells.len() {
            out.push((self.cell_start(from), self.hi));
        }
        if self.hi < end {
            out.push((self.hi + 1, end));
        }
        out
    }

    /// The first cell where two grids of the same shape differ, as (first ts, last ts, ours,
    /// theirs), for the error message.
    pub fn first_difference(&self, other: &Grid) -> Option<(i64, i64, Cell, Cell)> {
        let i = self.cells.iter().zip(&other.cells).position(|(a, b)| a != b)?;
        let last = if i + 1 < self.cells.len() {
            self.cell_start(i + 1) - 1
        } else {
            self.hi
        };
        Some((self.cell_start(i), last, self.cells[i], other.cells[i]))
    }
}

/// What the archive holds, in the shape the re-fetch is compared with.
#[derive(Debug)]
pub struct ArchivedSeries {
    /// Every archived series with its key (for its exact selector) and point count.
    pub series: HashMap<SeriesHash, (SeriesKey, u64)>,
    pub grid: Grid,
}

/// Builds the archive's grid over `[start, end]` with as many passes over the archive as it
/// takes for the points to occupy two cells or more (at most two: the second grid spans exactly
/// the archived timestamps). `pass` decodes the archive once, calling its visitor on each point.
pub fn archived_grid(
    start: i64,
    end: i64,
    mut pass: impl FnMut(&mut dyn FnMut(&SeriesKey, &SeriesHash, &Point)) -> anyhow::Result<()>,
) -> anyhow::Result<ArchivedSeries> {
    let mut grid = Grid::new(start, end);
    let mut series: HashMap<SeriesHash, (SeriesKey, u64)> = HashMap::new();
    let (mut min, mut max) = (i64::MAX, i64::MIN);
    pass(&mut |key, h, p| {
        series.entry(*h).or_insert_with(|| (key.clone(), 0)).1 += 1;
        grid.add(h, p);
        min = min.min(p.ts);
        max = max.max(p.ts);
    })?;
    if grid.occupied_cells() == 1 && grid.cells.len() > 1 {
        let mut fine = Grid::new(min, max);
        pass(&mut |_, h, p| {
            fine.add(h, p);
        })?;
        grid = fine;
    }
    Ok(ArchivedSeries { series, grid })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gts::Value;

    fn point(ts: i64) -> Point {
        Point {
            ts,
            geo: None,
            elev: None,
            value: Value::Long(ts),
        }
    }

    fn grid_of(lo: i64, hi: i64, ts: &[i64]) -> Grid {
        let mut g = Grid::new(lo, hi);
        let h = SeriesHash::of(&SeriesKey::default());
        for &t in ts {
            assert!(g.add(&h, &point(t)));
        }
        g
    }

    fn check_cover(w: &[(i64, i64)], start: i64, end: i64) {
        assert_eq!(w.first().unwrap().0, start);
        assert_eq!(w.last().unwrap().1, end);
        for pair in w.windows(2) {
            assert!(pair[0].0 <= pair[0].1, "{w:?}");
            assert_eq!(pair[0].1 + 1, pair[1].0, "{w:?}");
        }
    }

    #[test]
    fn cells_partition_the_range() {
        for (lo, hi) in [(0, 0), (0, 9), (-7, 4_000), (5, 100_000), (i64::MIN / 2, i64::MAX / 2)] {
            let g = Grid::new(lo, hi);
            assert_eq!(g.cell_start(0), lo);
            for i in 1..g.cells.len() {
                let s = g.cell_start(i);
                assert!(s > g.cell_start(i - 1));
                let mut probe = g.empty_like();
                let h = SeriesHash::of(&SeriesKey::default());
                probe.add(&h, &point(s));
                probe.add(&h, &point(s - 1));
                assert_eq!(
                    (probe.cells[i].points, probe.cells[i - 1].points),
                    (1, 1),
                    "{lo} {hi} {i}"
                );
            }
        }
    }

    #[test]
    fn no_window_holds_every_point() {
        let spread: Vec<i64> = (0..1000).map(|i| 86_400 - 1 - i * 7).collect();
        let heavy_last: Vec<i64> = std::iter::once(10).chain(std::iter::repeat_n(80_000, 999)).collect();
        let heavy_first: Vec<i64> = std::iter::repeat_n(10, 999).chain(std::iter::once(80_000)).collect();
        for ts in [spread, heavy_last, heavy_first, vec![3, 86_000]] {
            let g = grid_of(0, 86_399, &ts);
            let w = g.windows(0, 86_399);
            check_cover(&w, 0, 86_399);
            let total = ts.len();
            let with_points = w
                .iter()
                .map(|&(a, b)| ts.iter().filter(|&&t| a <= t && t <= b).count())
                .filter(|&n| n > 0)
                .collect::<Vec<_>>();
            assert!(with_points.len() >= 2, "{w:?}");
            assert!(with_points.iter().all(|&n| n < total));
        }
    }

    #[test]
    fn points_in_one_cell_get_a_finer_grid_and_outer_windows() {
        let h = SeriesHash::of(&SeriesKey::default());
        let key = SeriesKey::default();
        let ts = [50_000i64, 50_001, 50_003];
        let a = archived_grid(0, 86_399_999, |visit| {
            ts.iter().for_each(|&t| visit(&key, &h, &point(t)));
            Ok(())
        })
        .unwrap();
        assert_eq!((a.grid.lo, a.grid.hi), (50_000, 50_003));
        let w = a.grid.windows(0, 86_399_999);
        check_cover(&w, 0, 86_399_999);
        assert_eq!(w[0], (0, 49_999));
        assert_eq!(*w.last().unwrap(), (50_004, 86_399_999));
        assert_eq!(a.series[&h].1, 3);
        // One timestamp only: the window of that instant, and the parts before and after it.
        let a = archived_grid(0, 100, |visit| {
            visit(&key, &h, &point(40));
            Ok(())
        })
        .unwrap();
        assert_eq!(a.grid.windows(0, 100), [(0, 39), (40, 40), (41, 100)]);
    }

    #[test]
    fn differences_are_located() {
        let a = grid_of(0, 9_999, &[1, 2, 5_000]);
        let b = grid_of(0, 9_999, &[1, 2]);
        let (first, last, ours, theirs) = a.first_difference(&b).unwrap();
        assert!(first <= 5_000 && 5_000 <= last);
        assert_eq!((ours.points, theirs.points), (1, 0));
        assert!(a.first_difference(&a.clone()).is_none());
        let mut merged = grid_of(0, 9_999, &[1]);
        merged.merge(&grid_of(0, 9_999, &[2, 5_000]));
        assert_eq!(merged, a);
    }
}
