//! The fake's storage: per series, timestamps in a sorted vector with the values in a parallel
//! column (plain `i64`/`f64` while a series holds a single numeric type, so 16 bytes a point
//! for typical metrics), overwrite on equal timestamp, binary search for ranges. Series sit
//! behind `Arc`s so a fetch streams a snapshot without holding the lock; writers copy on write.
//! DOUBLEs Warp 10 stores as exact decimals are flagged, for fetch to print them as it does.

use crate::gts::input::InputPoint;
use crate::gts::selector::Selector;
use crate::gts::{Geo, Point, SeriesKey, Value};
use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::{Arc, RwLock};

/// Labels that identify the writer: stored like any label, hidden on output (§1.3).
pub const HIDDEN_LABELS: [&str; 2] = [".owner", ".producer"];

#[derive(Clone, Debug)]
enum Column {
    Long(Vec<i64>),
    Double(Vec<f64>),
    Any(Vec<Value>),
}

type Loc = (Option<Geo>, Option<i64>);

#[derive(Clone, Debug)]
pub struct Series {
    /// Class and every label, hidden ones included: the identity.
    pub key: SeriesKey,
    /// What fetch, find and delete print: `key` without `.owner`/`.producer`.
    pub visible: SeriesKey,
    pub attrs: BTreeMap<String, String>,
    ts: Vec<i64>,
    vals: Column,
    /// Location and elevation, only once some point has one.
    locs: Option<Vec<Loc>>,
    /// Which values are DOUBLEs stored as exact decimals, only once some point is one.
    decimals: Option<Vec<bool>>,
}

impl Series {
    pub fn new(key: SeriesKey) -> Series {
        let mut visible = key.clone();
        for hidden in HIDDEN_LABELS {
            visible.labels.remove(hidden);
        }
        Series {
            key,
            visible,
            attrs: BTreeMap::new(),
            ts: Vec::new(),
            vals: Column::Long(Vec::new()),
            locs: None,
            decimals: None,
        }
    }

    pub fn len(&self) -> usize {
        self.ts.len()
    }

    pub fn ts(&self, i: usize) -> i64 {
        self.ts[i]
    }

    /// Indices of the points with `start <= ts <= end`.
    pub fn range(&self, start: i64, end: i64) -> Range<usize> {
        let lo = self.ts.partition_point(|&t| t < start);
        let hi = self.ts.partition_point(|&t| t <= end);
        lo..hi.max(lo)
    }

    pub fn point(&self, i: usize) -> Point {
        let value = match &self.vals {
            Column::Long(v) => Value::Long(v[i]),
            Column::Double(v) => Value::Double(v[i]),
            Column::Any(v) => v[i].clone(),
        };
        let (geo, elev) = self.locs.as_ref().map_or((None, None), |l| l[i]);
        Point {
            ts: self.ts[i],
            geo,
            elev,
            value,
        }
    }

    /// Whether point `i` is a DOUBLE stored as an exact decimal.
    pub fn is_decimal(&self, i: usize) -> bool {
        self.decimals.as_ref().is_some_and(|d| d[i])
    }

    fn input_point(&self, i: usize) -> InputPoint {
        InputPoint {
            point: self.point(i),
            decimal: self.is_decimal(i),
        }
    }

    /// Appends a point newer than every stored one.
    pub fn push(&mut self, InputPoint { point: p, decimal }: InputPoint) {
        debug_assert!(self.ts.last().is_none_or(|&last| last < p.ts), "push out of order");
        match (&mut self.vals, p.value) {
            (Column::Long(v), Value::Long(n)) => v.push(n),
            (Column::Double(v), Value::Double(d)) => v.push(d),
            (Column::Long(v), Value::Double(d)) if v.is_empty() => self.vals = Column::Double(vec![d]),
            (Column::Any(v), value) => v.push(value),
            (_, value) => {
                let mut all: Vec<Value> = (0..self.ts.len()).map(|i| self.point(i).value).collect();
                all.push(value);
                self.vals = Column::Any(all);
            }
        }
        if p.geo.is_some() || p.elev.is_some() || self.locs.is_some() {
            let n = self.ts.len();
            self.locs
                .get_or_insert_with(|| vec![(None, None); n])
                .push((p.geo, p.elev));
        }
        if decimal || self.decimals.is_some() {
            let n = self.ts.len();
            self.decimals.get_or_insert_with(|| vec![false; n]).push(decimal);
        }
        self.ts.push(p.ts);
    }

    /// Stores points given in any order; a later point with the same timestamp wins, as does a
    /// new point over a stored one.
    pub fn insert(&mut self, mut points: Vec<InputPoint>) {
        points.reverse();
        points.sort_by_key(|p| p.point.ts); // stable: the last written of equal timestamps comes first
        points.dedup_by_key(|p| p.point.ts);
        if self
            .ts
            .last()
            .is_none_or(|&last| points.first().is_none_or(|p| p.point.ts > last))
        {
            points.into_iter().for_each(|p| self.push(p));
            return;
        }
        let fresh = Series::new(self.key.clone());
        let old = std::mem::replace(self, fresh);
        self.attrs = old.attrs.clone();
        let mut new = points.into_iter().peekable();
        for i in 0..old.len() {
            while let Some(p) = new.next_if(|p| p.point.ts < old.ts(i)) {
                self.push(p);
            }
            match new.next_if(|p| p.point.ts == old.ts(i)) {
                Some(p) => self.push(p),
                None => self.push(old.input_point(i)),
            }
        }
        new.for_each(|p| self.push(p));
    }

    /// Removes the points with `start <= ts <= end`; returns how many.
    pub fn remove_range(&mut self, start: i64, end: i64) -> usize {
        let r = self.range(start, end);
        self.ts.drain(r.clone());
        match &mut self.vals {
            Column::Long(v) => drop(v.drain(r.clone())),
            Column::Double(v) => drop(v.drain(r.clone())),
            Column::Any(v) => drop(v.drain(r.clone())),
        }
        if let Some(l) = &mut self.locs {
            l.drain(r.clone());
        }
        if let Some(d) = &mut self.decimals {
            d.drain(r.clone());
        }
        r.len()
    }
}

/// Every series, keyed (and so listed) by full identity.
#[derive(Default)]
pub struct Store {
    series: RwLock<BTreeMap<SeriesKey, Arc<Series>>>,
}

impl Store {
    /// Adds points to the series `key` (full labels), creating it if needed.
    pub fn insert(&self, key: SeriesKey, points: Vec<InputPoint>) {
        let mut map = self.series.write().expect("store lock");
        let series = map.entry(key).or_insert_with_key(|k| Arc::new(Series::new(k.clone())));
        Arc::make_mut(series).insert(points);
    }

    /// Adds a whole series built elsewhere (generator), replacing one with the same key.
    pub fn put(&self, series: Series) {
        self.series
            .write()
            .expect("store lock")
            .insert(series.key.clone(), Arc::new(series));
    }

    /// The series matching `sel` (on their visible labels and attributes), at this instant.
    pub fn select(&self, sel: &Selector) -> Vec<Arc<Series>> {
        let map = self.series.read().expect("store lock");
        map.values()
            .filter(|s| sel.matches(&s.visible, &s.attrs))
            .cloned()
            .collect()
    }

    /// Removes the points of `key` in `[start, end]`; the series stays registered.
    pub fn remove_range(&self, key: &SeriesKey, start: i64, end: i64) -> usize {
        let mut map = self.series.write().expect("store lock");
        map.get_mut(key)
            .map_or(0, |s| Arc::make_mut(s).remove_range(start, end))
    }

    /// Unregisters `key` with all its points.
    pub fn remove_series(&self, key: &SeriesKey) -> usize {
        self.series
            .write()
            .expect("store lock")
            .remove(key)
            .map_or(0, |s| s.len())
    }

    pub fn totals(&self) -> (usize, usize) {
        let map = self.series.read().expect("store lock");
        (map.len(), map.values().map(|s| s.len()).sum())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(class: &str) -> SeriesKey {
        SeriesKey {
            class: class.into(),
            labels: [(".owner".into(), "o".into()), ("h".into(), "a".into())].into(),
        }
    }

    fn long(ts: i64, n: i64) -> InputPoint {
        Point {
            ts,
            geo: None,
            elev: None,
            value: Value::Long(n),
        }
        .into()
    }

    fn values(s: &Series) -> Vec<(i64, Value)> {
        (0..s.len()).map(|i| (s.ts(i), s.point(i).value)).collect()
    }

    #[test]
    fn inserts_in_any_order_and_overwrites_equal_timestamps() {
        let mut s = Series::new(key("c"));
        assert!(!s.visible.labels.contains_key(".owner"));
        s.insert(vec![long(30, 3), long(10, 1), long(20, 2), long(10, 9)]);
        assert_eq!(
            values(&s),
            vec![(10, Value::Long(9)), (20, Value::Long(2)), (30, Value::Long(3))]
        );
        s.insert(vec![long(40, 4)]);
        s.insert(vec![
            long(20, 7),
            long(5, 0),
            Point {
                ts: 25,
                geo: None,
                elev: Some(3),
                value: Value::Double(2.5),
            }
            .into(),
        ]);
        let want = [(5, 0), (10, 9), (20, 7)].map(|(t, n)| (t, Value::Long(n)));
        assert_eq!(values(&s)[..3], want);
        assert_eq!(
            s.point(3),
            Point {
                ts: 25,
                geo: None,
                elev: Some(3),
                value: Value::Double(2.5)
            }
        );
        assert_eq!(s.point(4).elev, None);
        assert_eq!(values(&s)[4..], [(30, Value::Long(3)), (40, Value::Long(4))]);
    }

    #[test]
    fn decimal_flags_follow_their_points() {
        let double = |ts, decimal| InputPoint {
            point: Point {
                ts,
                geo: None,
                elev: None,
                value: Value::Double(1.5),
            },
            decimal,
        };
        let mut s = Series::new(key("c"));
        s.insert(vec![double(10, false), double(20, false)]);
        assert!(!s.is_decimal(0) && !s.is_decimal(1));
        s.insert(vec![double(15, true), double(20, true), double(30, false)]);
        let flags: Vec<bool> = (0..s.len()).map(|i| s.is_decimal(i)).collect();
        assert_eq!(flags, [false, true, true, false]);
        s.insert(vec![double(15, false)]);
        s.remove_range(10, 10);
        let flags: Vec<bool> = (0..s.len()).map(|i| s.is_decimal(i)).collect();
        assert_eq!(flags, [false, true, false]);
    }

    #[test]
    fn ranges_are_inclusive_and_deletes_keep_the_series() {
        let store = Store::default();
        store.insert(key("c"), (0..100).map(|t| long(t * 10, t)).collect());
        let sel = Selector::parse("c{h=a}").unwrap();
        let s = &store.select(&sel)[0];
        assert_eq!(s.range(10, 30), 1..4);
        assert_eq!(s.range(11, 29), 2..3);
        assert_eq!(s.range(30, 10).len(), 0);
        assert_eq!(s.range(i64::MIN, i64::MAX), 0..100);
        assert_eq!(store.remove_range(&key("c"), 10, 30), 3);
        assert_eq!(store.totals(), (1, 97));
        assert_eq!(s.len(), 100, "a snapshot taken before the delete is unchanged");
        assert!(store.select(&Selector::parse("c{h=b}").unwrap()).is_empty());
        assert_eq!(store.remove_series(&key("c")), 97);
        assert_eq!(store.totals(), (0, 0));
    }
}
