//! Codec identity on arbitrary data, and decoder robustness on damaged or hostile input.

use super::*;
use crate::gts::{Geo, Value};
use proptest::prelude::*;
use std::collections::BTreeMap;

fn sid() -> SegmentId {
    SegmentId::new("test-segment").unwrap()
}

fn encode(codec: Codec, series: &[(SeriesKey, Vec<Point>)]) -> Vec<u8> {
    let mut enc = Encoder::new(codec, 3, Vec::new()).unwrap();
    for (key, points) in series {
        enc.begin_series(key).unwrap();
        for p in points {
            enc.push(p).unwrap();
        }
    }
    enc.finish().unwrap()
}

fn decode(bytes: &[u8]) -> Result<Vec<(SeriesKey, Vec<Point>)>> {
    let mut dec = Decoder::open(bytes, None, &sid())?;
    let mut out: Vec<(SeriesKey, Vec<Point>)> = Vec::new();
    while let Some(b) = dec.next_batch()? {
        match out.last_mut() {
            Some((k, pts)) if *k == b.key => pts.extend(b.points),
            _ => out.push((b.key, b.points)),
        }
    }
    Ok(out)
}

/// A point with doubles as bits, so that NaN payloads and -0.0 compare exactly.
type PointBits = (i64, Option<(u64, u64)>, Option<i64>, u8, Vec<u8>);

fn bits(p: &Point) -> PointBits {
    let v = match &p.value {
        Value::Long(v) => v.to_le_bytes().to_vec(),
        Value::Double(v) => v.to_bits().to_le_bytes().to_vec(),
        Value::Bool(v) => vec![u8::from(*v)],
        Value::Str(s) => s.as_bytes().to_vec(),
        Value::Bin(b) => b.clone(),
    };
    (
        p.ts,
        p.geo.map(|g| (g.lat.to_bits(), g.lon.to_bits())),
        p.elev,
        p.value.type_tag(),
        v,
    )
}

fn assert_identity(codec: Codec, series: &[(SeriesKey, Vec<Point>)]) -> Vec<u8> {
    let bytes = encode(codec, series);
    let back = decode(&bytes).unwrap();
    assert_eq!(back.len(), series.len(), "series count");
    for ((k1, p1), (k2, p2)) in series.iter().zip(&back) {
        assert_eq!(k1, k2);
        assert_eq!(
            p1.iter().map(bits).collect::<Vec<_>>(),
            p2.iter().map(bits).collect::<Vec<_>>(),
            "{k1:?}"
        );
    }
    let mut digest = Digest::default();
    for (k, pts) in series {
        let h = SeriesHash::of(k);
        pts.iter().for_each(|p| digest.add(&h, p));
    }
    let sum = summarize(bytes.as_slice(), None, &sid()).unwrap();
    let points = series.iter().map(|s| s.1.len() as u64).sum();
    assert_eq!(
        sum,
        Summary {
            points,
            series: series.len() as u64,
            digest
        }
    );
    bytes
}

fn key(class: &str, labels: &[(&str, &str)]) -> SeriesKey {
    SeriesKey {
        class: class.into(),
        labels: labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
    }
}

fn pt(ts: i64, value: Value) -> Point {
    Point {
        ts,
        geo: None,
        elev: None,
        value,
    }
}

/// Doubles that look like metrics (short decimals) half of the time, any bit pattern otherwise.
fn any_double(text_safe: bool) -> BoxedStrategy<f64> {
    let decimal = (any::<i32>(), 0..7i32).prop_map(|(m, d)| f64::from(m) / 10f64.powi(d));
    if text_safe {
        // Warp 10 text has one NaN: payloads cannot survive a text round trip.
        prop_oneof![
            decimal,
            any::<f64>().prop_map(|x| if x.is_nan() { f64::NAN } else { x })
        ]
        .boxed()
    } else {
        prop_oneof![decimal, any::<u64>().prop_map(f64::from_bits), any::<f64>()].boxed()
    }
}

fn any_value(kind: u8, text_safe: bool) -> BoxedStrategy<Value> {
    let long = prop_oneof![any::<i64>(), -1000i64..1000, Just(i64::MIN), Just(i64::MAX)].prop_map(Value::Long);
    let double = any_double(text_safe).prop_map(Value::Double);
    let boolean = any::<bool>().prop_map(Value::Bool);
    let string = prop_oneof![any::<String>(), "[a-z ]{0,3}", Just(String::new())].prop_map(Value::Str);
    let binary = proptest::collection::vec(any::<u8>(), 0..40).prop_map(Value::Bin);
    match kind {
        1 => long.boxed(),
        2 => double.boxed(),
        3 => boolean.boxed(),
        4 => string.boxed(),
        5 => binary.boxed(),
        _ => prop_oneof![long, double, boolean, string, binary].boxed(),
    }
}

fn any_series(text_safe: bool) -> impl Strategy<Value = (SeriesKey, Vec<Point>)> {
    let name = "\\PC{1,12}";
    let labels = proptest::collection::btree_map("\\PC{1,6}", "\\PC{0,6}", 0..4);
    let geo = (-90.0..90.0f64, -180.0..180.0f64).prop_map(|(lat, lon)| Geo { lat, lon });
    let presence = prop_oneof![Just(0u8), Just(1), Just(2)];
    (
        name,
        labels,
        0..6u8,
        presence.clone(),
        presence,
        1..200usize,
        any::<i64>(),
    )
        .prop_flat_map(move |(class, labels, kind, geo_mode, elev_mode, n, start)| {
            let point = (
                any_value(kind, text_safe),
                proptest::option::of(geo.clone()),
                proptest::option::of(any::<i64>()),
                geo.clone(),
                any::<i64>(),
                1..1_000_000i64,
            );
            proptest::collection::vec(point, n).prop_map(move |raw| {
                let mut ts = start;
                let points = raw
                    .into_iter()
                    .map(|(value, g, e, g_all, e_all, step)| {
                        ts = ts.saturating_sub(step);
                        let geo = [None, Some(g_all), g][geo_mode as usize];
                        let elev = [None, Some(e_all), e][elev_mode as usize];
                        Point { ts, geo, elev, value }
                    })
                    .collect::<Vec<_>>();
                // Extremes of i64 make saturating_sub repeat: Warp 10 never repeats a timestamp.
                let mut seen = std::collections::HashSet::new();
                let points = points.into_iter().filter(|p| seen.insert(p.ts)).collect();
                (
                    SeriesKey {
                        class: class.clone(),
                        labels: labels.clone(),
                    },
                    points,
                )
            })
        })
}

/// The key of a series begun and left empty (no generated key looks like it).
fn key_of_empty(i: usize) -> SeriesKey {
    key("left.empty", &[("i", &i.to_string())])
}

/// Series with distinct keys (a fetch never prints one series twice).
fn distinct(series: Vec<(SeriesKey, Vec<Point>)>) -> Vec<(SeriesKey, Vec<Point>)> {
    let mut seen = std::collections::HashSet::new();
    series.into_iter().filter(|(k, _)| seen.insert(k.clone())).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn columnar_is_lossless(series in proptest::collection::vec(any_series(false), 1..8)) {
        assert_identity(Codec::Columnar, &distinct(series));
    }

    /// Blocks of a few points, so that series end, start and split across blocks in every
    /// position (each series is encoded into its block as soon as the next starts), with series
    /// begun and left empty in between (they are not written).
    #[test]
    fn columnar_is_lossless_across_small_blocks(
        series in proptest::collection::vec(any_series(false), 1..8),
        block_points in 1usize..40,
        empty_after in proptest::collection::vec(any::<bool>(), 8),
    ) {
        let series = distinct(series);
        let mut enc = columnar::Encoder::new(Vec::new(), 3).unwrap().with_block_points(block_points);
        for (i, (key, points)) in series.iter().enumerate() {
            enc.begin_series(key).unwrap();
            points.iter().for_each(|p| enc.push(p).unwrap());
            if empty_after[i] {
                enc.begin_series(&key_of_empty(i)).unwrap();
            }
        }
        let bytes = enc.finish().unwrap();
        let expected: Vec<_> = series.into_iter().filter(|(_, p)| !p.is_empty()).collect();
        let back = decode(&bytes).unwrap();
        prop_assert_eq!(back.len(), expected.len());
        for ((k1, p1), (k2, p2)) in expected.iter().zip(&back) {
            prop_assert_eq!(k1, k2);
            prop_assert_eq!(p1.iter().map(bits).collect::<Vec<_>>(), p2.iter().map(bits).collect::<Vec<_>>());
        }
    }

    #[test]
    fn gts_zst_is_lossless(series in proptest::collection::vec(any_series(true), 1..8)) {
        assert_identity(Codec::GtsZst, &distinct(series));
    }

    #[test]
    fn random_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..2000)) {
        let mut bytes = b"W10A\x01\x01\x00\x00".to_vec();
        bytes.extend_from_slice(&body);
        let _ = decode(&bytes);
        let _ = decode(&body);
    }

    /// A well-framed, well-compressed block whose content is garbage exercises the section
    /// parsers rather than the zstd checksum.
    #[test]
    fn hostile_block_content_never_panics(raw in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = decode(&framed(&raw));
    }

    /// Whole archives of both codecs with one byte changed anywhere (header, framing,
    /// compressed data, end): an error or a decode, never a panic. Cut anywhere: always an error.
    #[test]
    fn damaged_archives_never_panic_and_truncation_is_always_seen(
        gts_zst in any::<bool>(),
        at in any::<prop::sample::Index>(),
        byte in any::<u8>(),
    ) {
        let codec = if gts_zst { Codec::GtsZst } else { Codec::Columnar };
        let archive = encode(codec, &sample());
        let i = at.index(archive.len());
        prop_assert!(decode(&archive[..i]).is_err(), "{:?} cut at {} of {} decodes", codec, i, archive.len());
        let mut changed = archive;
        changed[i] = byte;
        let _ = decode(&changed);
    }

    #[test]
    fn mutated_block_content_never_panics(pos in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let (mut raw, _) = sample_raw_block();
        let i = pos.index(raw.len());
        raw[i] = byte;
        let _ = decode(&framed(&raw));
    }
}

/// An archive holding one block with the given raw content.
fn framed(raw: &[u8]) -> Vec<u8> {
    let mut out = b"W10A\x01\x01\x00\x00".to_vec();
    out.push(b'B');
    let comp = zstd::bulk::compress(raw, 1).unwrap();
    bytes::put_uvarint(&mut out, raw.len() as u64);
    bytes::put_uvarint(&mut out, comp.len() as u64);
    out.extend_from_slice(&comp);
    out
}

/// Raw content of the first block of an archive of `sample()`, and the archive.
fn sample_raw_block() -> (Vec<u8>, Vec<u8>) {
    let archive = encode(Codec::Columnar, &sample());
    let mut r = bytes::Reader::new(&archive[9..], "test");
    let raw_len = r.uvarint().unwrap() as usize;
    let comp_len = r.uvarint().unwrap() as usize;
    let comp = r.take(comp_len).unwrap();
    (zstd::bulk::decompress(comp, raw_len).unwrap(), archive)
}

/// Every feature once: all value types, mixed series, geo/elevation on some points, shared
/// timestamps with drops, specials.
fn sample() -> Vec<(SeriesKey, Vec<Point>)> {
    let ts: Vec<i64> = (0..500)
        .map(|i| 1_700_000_000_000_000 - i * 10_000_000 + (i % 7) * 1000)
        .collect();
    let host = |m: &str| key(m, &[("host", "h1"), ("dc", "par é")]);
    let specials = [
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        -0.0,
        5e-324,
        f64::MAX,
        1.0E-5,
        51.846000000000004,
    ];
    vec![
        (
            host("cpu"),
            ts.iter()
                .map(|&t| pt(t, Value::Double((t % 10_000) as f64 / 100.0)))
                .collect(),
        ),
        (
            host("mem"),
            ts.iter()
                .enumerate()
                .filter(|(i, _)| i % 97 != 5)
                .map(|(i, &t)| pt(t, Value::Long(4096 * i as i64)))
                .collect(),
        ),
        (
            host("mixed{},= %"),
            ts.iter()
                .enumerate()
                .map(|(i, &t)| {
                    let value = match i % 6 {
                        0 => Value::Long(i64::MIN + i as i64),
                        1 => Value::Double(specials[i % specials.len()]),
                        2 => Value::Bool(i % 4 == 2),
                        3 => Value::Str(if i % 5 == 0 {
                            "x".repeat(65536)
                        } else {
                            format!("s{i} ' é\n")
                        }),
                        4 => Value::Bin(vec![0, 255, i as u8]),
                        _ => Value::Double(i as f64 * 0.25),
                    };
                    Point {
                        ts: t,
                        geo: (i % 3 == 0).then_some(Geo {
                            lat: 48.85 + i as f64 * 1e-6,
                            lon: -2.35,
                        }),
                        elev: (i % 4 == 1).then_some(i as i64 * 1000 - 5),
                        value,
                    }
                })
                .collect(),
        ),
        (
            key("empty.labels", &[]),
            vec![pt(i64::MAX, Value::Long(i64::MAX)), pt(i64::MIN, Value::Long(i64::MIN))],
        ),
    ]
}

#[test]
fn sample_is_lossless_in_both_codecs() {
    assert_identity(Codec::Columnar, &sample());
    assert_identity(Codec::GtsZst, &sample());
}

#[test]
fn shared_timestamps_are_stored_once() {
    let ts: Vec<i64> = (0..5000)
        .map(|i| 1_000_000_000 - i * 10_003 + (i * 7919 % 13))
        .collect();
    let series: Vec<_> = (0..10)
        .map(|s| {
            let pts = ts
                .iter()
                .enumerate()
                .filter(|(i, _)| (i + s * 31) % 1000 != 0)
                .map(|(_, &t)| pt(t, Value::Long(1)))
                .collect();
            (key(&format!("m{s}"), &[]), pts)
        })
        .collect();
    let shared = assert_identity(Codec::Columnar, &series).len();
    let alone = assert_identity(Codec::Columnar, &series[..1]).len();
    assert!(
        shared < alone * 2,
        "10 series sharing timestamps take {shared} bytes, one alone {alone}"
    );
}

#[test]
fn long_and_many_series_cross_blocks() {
    let long: Vec<Point> = (0..columnar::BLOCK_POINTS as i64 * 2 + 17)
        .map(|i| pt(-i, Value::Double(i as f64 / 8.0)))
        .collect();
    let many: Vec<_> = (0..20_000)
        .map(|i| (key("many", &[("i", &i.to_string())]), vec![pt(i, Value::Bool(true))]))
        .collect();
    let mut series = vec![(key("long", &[]), long)];
    series.extend(many);
    assert_identity(Codec::Columnar, &series);
}

#[test]
fn empty_archive_round_trips() {
    for codec in [Codec::Columnar, Codec::GtsZst] {
        let bytes = encode(codec, &[]);
        let sum = summarize(bytes.as_slice(), None, &sid()).unwrap();
        assert_eq!((sum.points, sum.series), (0, 0));
    }
}

#[test]
fn every_truncation_and_flip_is_an_error_or_harmless() {
    let (_, archive) = sample_raw_block();
    let good = summarize(archive.as_slice(), None, &sid()).unwrap();
    for len in 0..archive.len() {
        assert!(decode(&archive[..len]).is_err(), "truncated at {len}");
    }
    let mut extra = archive.clone();
    extra.push(0);
    assert!(decode(&extra).is_err());
    for i in 0..archive.len() {
        let mut bad = archive.clone();
        bad[i] ^= 1 << (i % 8);
        // A flip zstd ignores (an unused bit of an entropy table) leaves the data intact;
        // anything else must be an error, never different data.
        if let Ok(sum) = summarize(bad.as_slice(), None, &sid()) {
            assert_eq!(sum, good, "flip at {i} changed the data unnoticed");
        }
    }
}

#[test]
fn oversized_declarations_are_refused_before_allocating() {
    let mut huge = b"W10A\x01\x01\x00\x00B".to_vec();
    bytes::put_uvarint(&mut huge, 1 << 40);
    bytes::put_uvarint(&mut huge, 10);
    let err = format!("{:#}", decode(&huge).unwrap_err());
    assert!(err.contains("limits"), "{err}");

    let mut raw = Vec::new();
    bytes::put_uvarint(&mut raw, 1);
    bytes::put_uvarint(&mut raw, u64::MAX);
    assert!(decode(&framed(&raw)).is_err());
}

#[test]
fn text_reader_reports_bad_lines() {
    let mut enc = Encoder::new(Codec::Columnar, 3, Vec::new()).unwrap();
    let err = enc.encode_text("10// a{} 1\n=9// x\n".as_bytes()).unwrap_err();
    assert!(format!("{err:#}").contains("line 2"), "{err:#}");
    let err = enc.encode_text("=9// 1\n".as_bytes()).unwrap_err();
    assert!(format!("{err:#}").contains("before any series"), "{err:#}");
    let err = enc.encode_text("10// a{} 1".as_bytes()).unwrap_err();
    assert!(format!("{err:#}").contains("truncated"), "{err:#}");
}

#[test]
fn text_in_both_forms_encodes_the_same_points() {
    let text = "10/48.0:2.5/7 a{x=1} 1\n=9// 2.5\n=8// 'h%C3%A9'\n10// b{} T\n=5// b64:-_8AQQ\n";
    let full = "10/48.0:2.5/7 a{x=1} 1\n9// a{x=1} 2.5\n8// a{x=1} 'h%C3%A9'\n10// b{} T\n5// b{} b64:-_8AQQ\n";
    let sums: Vec<Summary> = [text, full]
        .iter()
        .map(|t| {
            let mut enc = Encoder::new(Codec::Columnar, 3, Vec::new()).unwrap();
            assert_eq!(enc.encode_text(t.as_bytes()).unwrap(), 5);
            summarize(enc.finish().unwrap().as_slice(), None, &sid()).unwrap()
        })
        .collect();
    assert_eq!(sums[0], sums[1]);
    assert_eq!((sums[0].points, sums[0].series), (5, 2));
    let _ = BTreeMap::<String, String>::new();
}

#[test]
fn encrypted_archives_decode_only_with_their_key_and_segment() {
    use std::io::Write;
    let key = crypt::MasterKey::from_bytes([7; 32]);
    let plain = encode(Codec::Columnar, &sample());
    let mut w = crypt::EncryptWriter::new(Vec::new(), &key, "test-segment").unwrap();
    w.write_all(&plain).unwrap();
    let sealed = w.finish().unwrap();
    let good = summarize(plain.as_slice(), None, &sid()).unwrap();
    assert_eq!(summarize(sealed.as_slice(), Some(&key), &sid()).unwrap(), good);
    let err = summarize(sealed.as_slice(), None, &sid()).unwrap_err();
    assert!(format!("{err:#}").contains("encrypted"), "{err:#}");
    assert!(summarize(sealed.as_slice(), Some(&key), &SegmentId::new("other").unwrap()).is_err());
    let other_key = crypt::MasterKey::from_bytes([8; 32]);
    assert!(summarize(sealed.as_slice(), Some(&other_key), &sid()).is_err());
}

/// The index frame of an indexed archive, located from the end as a ranged reader does:
/// (where it starts, where the footer starts).
fn index_frame(archive: &[u8]) -> (usize, usize) {
    assert!(index::has_index(&archive[..8]));
    let size = archive.len() as u64;
    let footer = index::footer_start(size, &archive[archive.len() - 8..]).unwrap() as usize;
    let start = index::frame_start(footer as u64, &archive[footer - 4..footer]).unwrap() as usize;
    (start, footer)
}

#[test]
fn block_index_locates_every_series_part_of_every_block() {
    let long: Vec<Point> = (0..columnar::BLOCK_POINTS as i64 + 17)
        .map(|i| pt(1_000_000 - i, Value::Long(i)))
        .collect();
    let mut series = vec![(key("long", &[]), long)];
    series.extend((0..20_000).map(|i| {
        (
            key("many", &[("i", &i.to_string())]),
            vec![pt(i % 7, Value::Bool(true))],
        )
    }));
    let archive = encode(Codec::Columnar, &series);
    let (start, footer) = index_frame(&archive);
    assert_eq!(archive[start], index::TAG_INDEX);
    let blocks = index::parse(&index::read_frame(&archive[start + 1..footer]).unwrap(), start as u64).unwrap();
    assert!(blocks.len() >= 3, "{} blocks", blocks.len());
    let mut decoded = Vec::new();
    for b in &blocks {
        let frame = &archive[b.offset as usize..(b.offset + b.len) as usize];
        let mut spans = Vec::new();
        decode_block(frame, archive[4], |batch| {
            let ts: Vec<i64> = batch.points.iter().map(|p| p.ts).collect();
            spans.push(index::SeriesSpan::of(&batch.key, &ts));
            decoded.push(batch);
            Ok(())
        })
        .unwrap();
        assert_eq!(spans, b.series, "block at {}", b.offset);
    }
    assert_eq!(blocks[0].series[0].first, 1_000_000 - columnar::BLOCK_POINTS as i64 + 1);
    assert_eq!(blocks[1].series[0].key, key("long", &[]), "the long series continues");
    let mut all = decode(&archive).unwrap();
    let mut parts: Vec<_> = decoded.into_iter().map(|b| (b.key, b.points)).collect();
    all.sort_by(|a, b| a.0.cmp(&b.0));
    parts.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(parts.len(), all.len() + 1, "one series in two parts");
    // A block frame alone, cut or followed by anything, is refused.
    let b = &blocks[1];
    let frame = &archive[b.offset as usize..(b.offset + b.len) as usize];
    assert!(decode_block(&frame[..frame.len() - 1], archive[4], |_| Ok(())).is_err());
    assert!(decode_block(&[frame, b"B"].concat(), archive[4], |_| Ok(())).is_err());
}

#[test]
fn an_index_that_does_not_describe_the_blocks_is_refused() {
    let series = sample();
    let archive = encode(Codec::Columnar, &series);
    let (start, footer) = index_frame(&archive);
    let mut blocks = index::parse(&index::read_frame(&archive[start + 1..footer]).unwrap(), start as u64).unwrap();
    // One series' span shortened by one unit: a query for its last point would skip the block.
    blocks[0].series[0].last -= 1;
    let mut b = index::Builder::default();
    for blk in &blocks {
        b.add_block(blk.offset, blk.len, &blk.series);
    }
    let bad = [&archive[..start], &b.frame(3).unwrap(), &archive[footer..]].concat();
    let err = decode(&bad).unwrap_err();
    assert!(format!("{err:#}").contains("does not describe"), "{err:#}");

    // Without the index frame but still flagged: refused. Without both: an older archive, read.
    let stripped = [&archive[..start], &archive[footer..]].concat();
    assert!(decode(&stripped).is_err());
    let mut old = stripped;
    old[6] = 0;
    assert!(!index::has_index(&old[..8]));
    assert_eq!(decode(&old).unwrap(), decode(&archive).unwrap());
}

/// Archives written by earlier format versions must still decode: this one was written by
/// version 1 (before per-value double exponents and entropy-coded columns) from `sample()`.
#[test]
fn version_1_archives_still_decode() {
    let v1 = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/columnar-v1.w10a")).unwrap();
    assert_eq!(v1[4], 1, "the fixture is a version 1 archive");
    let back = decode(&v1).unwrap();
    let want = sample();
    assert_eq!(back.len(), want.len());
    for ((k1, p1), (k2, p2)) in want.iter().zip(&back) {
        assert_eq!(k1, k2);
        assert_eq!(
            p1.iter().map(bits).collect::<Vec<_>>(),
            p2.iter().map(bits).collect::<Vec<_>>()
        );
    }
}

/// A look-alike of a real CloudWatch CPU series (`scripts/gen_heldout.py nab-like`, NAB itself
/// is AGPL): 3-decimal values, 124 of 2000 of them one or two ULPs off (`32.98799999999999`),
/// irregular 5-minute timestamps. The noisy values cost a correction each; the series stays
/// on the short-decimal path, well under half of zstd -19 on its text.
#[test]
fn float_noise_costs_per_value_not_per_series() {
    let text = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/nab-like-cpu.gts")).unwrap();
    let mut enc = Encoder::new(Codec::Columnar, 3, Vec::new()).unwrap();
    let n = enc.encode_text(text.as_slice()).unwrap();
    let archive = enc.finish().unwrap();
    let mut want = Vec::new();
    let mut reader = text::TextReader::new(text.as_slice());
    while let Some((_, p)) = reader.next_point().unwrap() {
        want.push(bits(&p));
    }
    let back = decode(&archive).unwrap();
    assert_eq!(back.len(), 1);
    assert_eq!(back[0].1.iter().map(bits).collect::<Vec<_>>(), want);
    let zstd19 = zstd::bulk::compress(&text, 19).unwrap().len();
    assert_eq!(n, 2000);
    assert!(
        archive.len() * 2 < zstd19 && archive.len() < 2 * 2300,
        "{} bytes for {n} points, zstd -19 of the text {zstd19}",
        archive.len()
    );
}

#[test]
fn a_block_larger_than_the_format_allows_is_refused() {
    let max = columnar::BLOCK_POINTS;
    let points: Vec<Point> = (0..max as i64 + 1).map(|i| pt(-i, Value::Long(i % 1000))).collect();
    let write = |block_points: usize| {
        let mut enc = columnar::Encoder::new(Vec::new(), 3)
            .unwrap()
            .with_block_points(block_points);
        enc.begin_series(&key("big", &[])).unwrap();
        points.iter().for_each(|p| enc.push(p).unwrap());
        enc.finish().unwrap()
    };
    let decoded = decode(&write(max)).unwrap();
    assert_eq!(decoded, vec![(key("big", &[]), points.clone())]);
    let err = format!("{:#}", decode(&write(max + 1)).unwrap_err());
    assert!(err.contains(&(max + 1).to_string()), "{err}");
}
