//! Warp 10 selectors (`docs/WARP10.md#selectors`): `class{label=value,label~regex}` where
//! the class may be `=exact`, `~regex` or plain exact, regexes are full-match, only the named
//! labels are constrained, and a missing label falls back to the attribute of that name.

use super::{SeriesKey, percent};
use anyhow::{Context, Result, bail};
use std::collections::BTreeMap;

#[derive(Debug, Clone)]
enum Matcher {
    Exact(String),
    Regex(regex::Regex),
}

impl Matcher {
    fn regex(pattern: &str) -> Result<Matcher> {
        let re = regex::Regex::new(&format!("^(?:{pattern})$"))
            .with_context(|| format!("invalid regular expression {pattern:?}"))?;
        Ok(Matcher::Regex(re))
    }

    fn matches(&self, s: &str) -> bool {
        match self {
            Matcher::Exact(e) => e == s,
            Matcher::Regex(r) => r.is_match(s),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Selector {
    class: Matcher,
    labels: Vec<(String, Matcher)>,
}

/// A selector taken apart, regexes not yet compiled: the class (`=exact`, `~regex` or plain)
/// and each label's name, separator and value, percent-decoded.
struct Parts {
    class: String,
    labels: Vec<(String, char, String)>,
}

fn split(text: &str) -> Result<Parts> {
    let open = text
        .find('{')
        .with_context(|| format!("selector {text:?} has no '{{': write class{{labels}}, e.g. os.cpu{{host=web}}"))?;
    if open == 0 || !text.ends_with('}') {
        bail!("selector {text:?} must look like class{{labels}}, e.g. os.cpu{{host=web}} (no '}}' at the end?)");
    }
    let class = percent::decode_str(&text.as_bytes()[..open]).context("selector class")?;
    let mut labels = Vec::new();
    for piece in text[open + 1..text.len() - 1].split(',') {
        let piece = piece.trim();
        if piece.is_empty() {
            continue;
        }
        let sep = if piece.contains('=') {
            '='
        } else if piece.contains('~') {
            '~'
        } else {
            bail!("selector {text:?}: label {piece:?} needs = or ~");
        };
        // Like Warp 10: the value stops at a second separator (it must be encoded as %3D).
        let mut parts = piece.split(sep);
        let name = percent::decode_str(parts.next().unwrap_or_default().as_bytes())?;
        let value = percent::decode_str(parts.next().unwrap_or_default().as_bytes())?;
        labels.push((name, sep, value));
    }
    Ok(Parts { class, labels })
}

/// Checks the shape every Warp 10 endpoint requires (`class{labels}`, each label with = or ~)
/// before any request, so that a typo fails the plan instead of every segment. The regexes are
/// left to Warp 10: they are Java's, which accept patterns Rust's `regex` refuses.
pub fn check(text: &str) -> Result<()> {
    split(text).map(drop)
}

impl Selector {
    pub fn parse(text: &str) -> Result<Selector> {
        let parts = split(text)?;
        let class = if let Some(exact) = parts.class.strip_prefix('=') {
            Matcher::Exact(exact.to_string())
        } else if let Some(re) = parts.class.strip_prefix('~') {
            Matcher::regex(re)?
        } else {
            Matcher::Exact(parts.class)
        };
        let mut labels = Vec::new();
        for (name, sep, value) in parts.labels {
            let m = if sep == '=' {
                Matcher::Exact(value)
            } else {
                Matcher::regex(&value)?
            };
            labels.push((name, m));
        }
        Ok(Selector { class, labels })
    }

    pub fn matches(&self, key: &SeriesKey, attrs: &BTreeMap<String, String>) -> bool {
        self.class.matches(&key.class)
            && self.labels.iter().all(|(name, m)| {
                key.labels
                    .get(name)
                    .or_else(|| attrs.get(name))
                    .is_some_and(|v| m.matches(v))
            })
    }
}

/// Parses a selector as fetch and find read it under a token (§2.1): constraints on
/// `.producer`, `.owner` and `.app` are dropped, the token's own taking their place (the fake's
/// series all carry its token's; archived series were fetched with the archiving token).
pub fn parse_scoped(sel: &str) -> Result<Selector> {
    let open = sel.find('{').with_context(|| format!("selector {sel:?} has no '{{'"))?;
    if !sel.ends_with('}') || sel.len() < open + 2 {
        bail!("selector {sel:?} must look like class{{labels}}");
    }
    let kept: Vec<&str> = sel[open + 1..sel.len() - 1]
        .split(',')
        .filter(|piece| {
            let name = piece.trim().split(['=', '~']).next().unwrap_or_default();
            let name = percent::decode_str(name.as_bytes()).unwrap_or_default();
            ![".producer", ".owner", ".app"].contains(&name.as_str())
        })
        .collect();
    Selector::parse(&format!("{}{{{}}}", &sel[..open], kept.join(",")))
}

/// The selector matching exactly this class and these labels (and series with more labels).
pub fn exact_selector(key: &SeriesKey) -> String {
    let mut out = b"=".to_vec();
    super::line::render_header(&mut out, key);
    String::from_utf8(out).expect("percent-encoded selector is ASCII")
}

/// The selector matching every series of one class.
pub fn exact_class_selector(class: &str) -> String {
    format!("={}{{}}", percent::encode_to_string(class))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(class: &str, labels: &[(&str, &str)]) -> SeriesKey {
        SeriesKey {
            class: class.into(),
            labels: labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        }
    }

    #[test]
    fn matching_rules() {
        let none = BTreeMap::new();
        let k = key("os.cpu", &[("host", "web01"), ("dc", "par1")]);
        assert!(Selector::parse("os.cpu{}").unwrap().matches(&k, &none));
        assert!(Selector::parse("~os\\..*{dc=par1}").unwrap().matches(&k, &none));
        assert!(
            !Selector::parse("~os{}").unwrap().matches(&k, &none),
            "regex is full match"
        );
        assert!(Selector::parse("=os.cpu{host~web.*}").unwrap().matches(&k, &none));
        assert!(!Selector::parse("os.cpu{rack=1}").unwrap().matches(&k, &none));
        let attrs = [("rack".to_string(), "1".to_string())].into();
        assert!(
            Selector::parse("os.cpu{rack=1}").unwrap().matches(&k, &attrs),
            "attribute fallback"
        );
        assert!(Selector::parse("{}").is_err());
        assert!(Selector::parse("c{a}").is_err());
        assert!(Selector::parse("c").is_err());
        let app = key("os.cpu", &[(".app", "a1")]);
        assert!(
            parse_scoped("os.cpu{.app=other,.owner~x}")
                .unwrap()
                .matches(&app, &none)
        );
        assert!(!parse_scoped("os.cpu{.apps=other}").unwrap().matches(&app, &none));
        for bad in ["os.cpu{", "os.cpu", "{}"] {
            assert!(parse_scoped(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn exact_selectors_round_trip_reserved_characters() {
        let none = BTreeMap::new();
        let k = key("~a{b}=,", &[("k=,~}", "v a%+"), ("x", "")]);
        let sel = exact_selector(&k);
        assert_eq!(sel, "=%7Ea%7Bb%7D%3D%2C{k%3D%2C%7E%7D=v%20a%25%2B,x=}");
        assert!(Selector::parse(&sel).unwrap().matches(&k, &none));
        let other = key("~a{b}=,", &[("k=,~}", "v a%+ ")]);
        assert!(!Selector::parse(&sel).unwrap().matches(&other, &none));
        assert!(
            Selector::parse(&exact_class_selector("~a{b}"))
                .unwrap()
                .matches(&key("~a{b}", &[]), &none)
        );
    }
}
