//! The Warp 10 GTS text format: the data model shared by every stage, plus parsing and
//! rendering exactly as Warp 10 does (see `docs/WARP10.md`).

use std::collections::BTreeMap;

/// Identity of a series as Warp 10 prints it: class and visible labels, decoded.
/// Labels are a sorted map because Warp 10 prints them in arbitrary order.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct SeriesKey {
    pub class: String,
    pub labels: BTreeMap<String, String>,
}

/// Latitude and longitude exactly as printed by Warp 10 (already quantised by the server).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Geo {
    pub lat: f64,
    pub lon: f64,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Long(i64),
    Double(f64),
    Bool(bool),
    Str(String),
    Bin(Vec<u8>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Point {
    /// Timestamp in platform units (microseconds on default Warp 10 installs).
    pub ts: i64,
    pub geo: Option<Geo>,
    pub elev: Option<i64>,
    pub value: Value,
}

impl Value {
    /// Stable type tag used by the digest and the archive format. Never renumber.
    pub fn type_tag(&self) -> u8 {
        match self {
            Value::Long(_) => 1,
            Value::Double(_) => 2,
            Value::Bool(_) => 3,
            Value::Str(_) => 4,
            Value::Bin(_) => 5,
        }
    }
}

pub mod fetch_params;
pub mod input;
pub mod line;
pub mod output;
pub mod percent;
pub mod selector;
pub mod stream;
pub mod value;
