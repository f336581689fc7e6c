//! ClamAV's hexadecimal body signature syntax, as `.ndb` bodies and `.ldb` subsignatures write
//! it: hex bytes, `??`, nibbles `a?` / `?a`, `{n}`, alternatives `(aa|bbcc)` and their negation
//! `!(aa|bb)` (alternatives of one length), and the variable gaps `*`, `{-n}`, `{n-}`, `{n-m}`.
//!
//! A pattern is cut at its variable gaps into segments of fixed length. Each segment is found
//! through its longest run of fixed bytes (its anchor), as ClamAV's Aho-Corasick stage finds a
//! pattern's static part, and verified byte by byte around it; the scan chains the segments of
//! one pattern across the gaps. Nothing is ever searched by backtracking.

use std::ops::Range;

/// A whole pattern: `segments[i]` and `segments[i + 1]` are separated by `gaps[i]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pattern {
    pub segments: Vec<Segment>,
    pub gaps: Vec<Gap>,
}

/// Bytes between two segments: at least `min`, at most `max` (None: any number).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Gap {
    pub min: u64,
    pub max: Option<u64>,
}

/// A run of fixed length: each byte matches when `byte & mask == value`, then the
/// alternatives it contains are checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    mask: Vec<u8>,
    value: Vec<u8>,
    choices: Vec<Choice>,
    /// The longest run of exact bytes: what the scan looks for.
    pub anchor: Range<usize>,
    /// Every byte exact: verified by one comparison.
    literal: bool,
}

/// `(aa|bb)` or `!(aa|bb)` at `at`: options of one width.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Choice {
    at: usize,
    width: usize,
    options: Vec<Vec<u8>>,
    negated: bool,
}

/// Why a pattern cannot be used: malformed, or a form the scanner does not implement (the
/// loader skips those and counts them by `kind`, so a real database still loads).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PatternError {
    #[error("{0}")]
    Invalid(String),
    #[error("{kind} is not supported")]
    Unsupported { kind: &'static str },
}

/// A segment longer than this would make every scan keep as many bytes between chunks.
pub const MAX_SEGMENT_BYTES: usize = 8 << 10;
/// Anchors shorter than this are not found by a byte pattern search of any speed.
pub const MIN_ANCHOR_BYTES: usize = 2;

impl Pattern {
    pub fn parse(hex: &str) -> Result<Self, PatternError> {
        let invalid = |reason: String| PatternError::Invalid(reason);
        let text = hex.as_bytes();
        let mut segments = Vec::new();
        let mut gaps = Vec::new();
        let mut current = Builder::default();
        let mut at = 0;
        while at < text.len() {
            match text[at] {
                b'*' => {
                    segments.push(current.close(hex)?);
                    gaps.push(Gap { min: 0, max: None });
                    at += 1;
                }
                b'{' => {
                    let end = closing(text, at, b'}', hex)?;
                    let gap = parse_gap(&hex[at + 1..end]).map_err(invalid)?;
                    if gap.max == Some(gap.min) {
                        current.any(gap.min as usize, hex)?;
                    } else {
                        segments.push(current.close(hex)?);
                        gaps.push(gap);
                    }
                    at = end + 1;
                }
                b'!' | b'(' => {
                    let negated = text[at] == b'!';
                    let open = at + usize::from(negated);
                    if text.get(open) != Some(&b'(') {
                        return Err(invalid(format!("'!' must open '(' in {hex:?}")));
                    }
                    let end = closing(text, open, b')', hex)?;
                    current.choice(&hex[open + 1..end], negated)?;
                    at = end + 1;
                }
                b'[' => {
                    return Err(PatternError::Unsupported {
                        kind: "an anchored byte range [n-m]",
                    })
                }
                _ => {
                    let pair = text
                        .get(at..at + 2)
                        .ok_or_else(|| invalid(format!("{hex:?} ends in half a byte")))?;
                    current.nibbles(pair[0], pair[1], hex)?;
                    at += 2;
                }
            }
        }
        segments.push(current.close(hex)?);
        Ok(Self { segments, gaps })
    }
}

impl Segment {
    pub fn len(&self) -> usize {
        self.value.len()
    }

    pub fn is_empty(&self) -> bool {
        self.value.is_empty()
    }

    pub fn anchor_bytes(&self) -> &[u8] {
        &self.value[self.anchor.clone()]
    }

    /// Whether `bytes` (at least [`Segment::len`] long) start with this segment.
    pub fn matches(&self, bytes: &[u8]) -> bool {
        let Some(bytes) = bytes.get(..self.len()) else {
            return false;
        };
        if self.literal {
            return bytes == self.value;
        }
        let fixed = bytes
            .iter()
            .zip(&self.mask)
            .zip(&self.value)
            .all(|((byte, mask), value)| byte & mask == *value);
        fixed
            && self.choices.iter().all(|choice| {
                let here = &bytes[choice.at..choice.at + choice.width];
                choice.options.iter().any(|option| option == here) != choice.negated
            })
    }
}

#[derive(Default)]
struct Builder {
    mask: Vec<u8>,
    value: Vec<u8>,
    choices: Vec<Choice>,
}

impl Builder {
    fn push(&mut self, mask: u8, value: u8) {
        self.mask.push(mask);
        self.value.push(value & mask);
    }

    fn nibbles(&mut self, high: u8, low: u8, hex: &str) -> Result<(), PatternError> {
        let nibble = |digit: u8| match digit {
            b'?' => Ok(None),
            _ => (digit as char)
                .to_digit(16)
                .map(|n| Some(n as u8))
                .ok_or_else(|| {
                    PatternError::Invalid(format!("{:?} is not hex in {hex:?}", digit as char))
                }),
        };
        match (nibble(high)?, nibble(low)?) {
            (Some(h), Some(l)) => self.push(0xff, h << 4 | l),
            (Some(h), None) => self.push(0xf0, h << 4),
            (None, Some(l)) => self.push(0x0f, l),
            (None, None) => self.push(0, 0),
        }
        Ok(())
    }

    fn any(&mut self, count: usize, hex: &str) -> Result<(), PatternError> {
        if self.value.len() + count > MAX_SEGMENT_BYTES {
            return Err(too_long(hex));
        }
        for _ in 0..count {
            self.push(0, 0);
        }
        Ok(())
    }

    fn choice(&mut self, inner: &str, negated: bool) -> Result<(), PatternError> {
        if matches!(inner, "B" | "L") {
            return Err(PatternError::Unsupported {
                kind: "a word or line boundary (B)/(L)",
            });
        }
        let options = inner
            .split('|')
            .map(decode_hex)
            .collect::<Result<Vec<_>, _>>()
            .map_err(PatternError::Invalid)?;
        let width = options.first().map_or(0, Vec::len);
        if width == 0 || options.iter().any(|o| o.len() != width) {
            return Err(PatternError::Unsupported {
                kind: "alternatives of different lengths",
            });
        }
        self.choices.push(Choice {
            at: self.value.len(),
            width,
            options,
            negated,
        });
        for _ in 0..width {
            self.push(0, 0);
        }
        Ok(())
    }

    fn close(&mut self, hex: &str) -> Result<Segment, PatternError> {
        let Builder {
            mask,
            value,
            choices,
        } = std::mem::take(self);
        if value.is_empty() {
            return Err(PatternError::Invalid(format!(
                "a gap in {hex:?} has no bytes on one side"
            )));
        }
        if value.len() > MAX_SEGMENT_BYTES {
            return Err(too_long(hex));
        }
        let anchor = longest_exact_run(&mask, &choices);
        if anchor.len() < MIN_ANCHOR_BYTES {
            return Err(PatternError::Unsupported {
                kind: "a part without two fixed bytes in a row",
            });
        }
        let literal = choices.is_empty() && mask.iter().all(|&m| m == 0xff);
        Ok(Segment {
            mask,
            value,
            choices,
            anchor,
            literal,
        })
    }
}

fn too_long(hex: &str) -> PatternError {
    PatternError::Invalid(format!(
        "a part of {hex:?} is longer than {MAX_SEGMENT_BYTES} bytes without a variable gap"
    ))
}

/// The longest run of exact bytes outside alternatives (the first of equals).
fn longest_exact_run(mask: &[u8], choices: &[Choice]) -> Range<usize> {
    let exact = |at: usize| {
        mask[at] == 0xff && !choices.iter().any(|c| (c.at..c.at + c.width).contains(&at))
    };
    let mut best = 0..0;
    let mut start = 0;
    for at in 0..=mask.len() {
        if at == mask.len() || !exact(at) {
            if at - start > best.len() {
                best = start..at;
            }
            start = at + 1;
        }
    }
    best
}

fn closing(text: &[u8], open: usize, close: u8, hex: &str) -> Result<usize, PatternError> {
    text[open..]
        .iter()
        .position(|&b| b == close)
        .map(|n| open + n)
        .ok_or_else(|| {
            PatternError::Invalid(format!("unclosed {:?} in {hex:?}", text[open] as char))
        })
}

/// `{n}`, `{-n}`, `{n-}` or `{n-m}`.
fn parse_gap(range: &str) -> Result<Gap, String> {
    let number = |text: &str| {
        text.parse::<u64>()
            .map_err(|_| format!("{{{range}}} is not a byte count or range"))
    };
    let gap = match range.split_once('-') {
        None => {
            let n = number(range)?;
            Gap {
                min: n,
                max: Some(n),
            }
        }
        Some(("", max)) => Gap {
            min: 0,
            max: Some(number(max)?),
        },
        Some((min, "")) => Gap {
            min: number(min)?,
            max: None,
        },
        Some((min, max)) => Gap {
            min: number(min)?,
            max: Some(number(max)?),
        },
    };
    if gap.max.is_some_and(|max| max < gap.min) {
        return Err(format!("{{{range}}}: the range ends before it starts"));
    }
    Ok(gap)
}

pub fn decode_hex(text: &str) -> Result<Vec<u8>, String> {
    let mut bytes = vec![0; text.len() / 2];
    decode_hex_into(text, &mut bytes)?;
    Ok(bytes)
}

/// Decodes `text` into the start of `out`; returns the bytes written.
pub fn decode_hex_into(text: &str, out: &mut [u8]) -> Result<usize, String> {
    let digits = text.as_bytes();
    if !digits.len().is_multiple_of(2) || digits.len() / 2 > out.len() {
        return Err(format!("{text:?} is not an even run of hex digits"));
    }
    let hex_digit = |digit: u8| {
        (digit as char)
            .to_digit(16)
            .ok_or_else(|| format!("{text:?} is not an even run of hex digits"))
    };
    for (byte, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
        *byte = (hex_digit(pair[0])? << 4 | hex_digit(pair[1])?) as u8;
    }
    Ok(digits.len() / 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_segment(hex: &str) -> Segment {
        let mut pattern = Pattern::parse(hex).expect("valid");
        assert_eq!(pattern.segments.len(), 1, "{hex}");
        pattern.segments.remove(0)
    }

    #[test]
    fn fixed_length_wildcards_match_what_they_say() {
        // (pattern, bytes it matches, bytes it does not)
        type Case<'a> = (&'a str, &'a [&'a [u8]], &'a [&'a [u8]]);
        let cases: &[Case] = &[
            (
                "aabb??cc",
                &[b"\xaa\xbb\x00\xcc", b"\xaa\xbb\xff\xcc"],
                &[b"\xaa\xbb\x00\xcd"],
            ),
            (
                "aabbc?",
                &[b"\xaa\xbb\xc0", b"\xaa\xbb\xcf"],
                &[b"\xaa\xbb\xd0"],
            ),
            (
                "aabb?c",
                &[b"\xaa\xbb\x0c", b"\xaa\xbb\xfc"],
                &[b"\xaa\xbb\x0d"],
            ),
            (
                "aabb{2}cc",
                &[b"\xaa\xbb\x01\x02\xcc"],
                &[b"\xaa\xbb\x01\x02\xcd"],
            ),
            (
                "aabb(01|02)cc",
                &[b"\xaa\xbb\x01\xcc", b"\xaa\xbb\x02\xcc"],
                &[b"\xaa\xbb\x03\xcc"],
            ),
            (
                "aabb(0102|0304)",
                &[b"\xaa\xbb\x03\x04"],
                &[b"\xaa\xbb\x01\x04"],
            ),
            (
                "aabb!(01|02)cc",
                &[b"\xaa\xbb\x03\xcc"],
                &[b"\xaa\xbb\x01\xcc", b"\xaa\xbb\x02\xcc"],
            ),
            ("AABBCC", &[b"\xaa\xbb\xcc"], &[b"\xaa\xbb"]),
        ];
        for (hex, yes, no) in cases {
            let segment = one_segment(hex);
            for bytes in *yes {
                assert!(segment.matches(bytes), "{hex} should match {bytes:x?}");
            }
            for bytes in *no {
                assert!(!segment.matches(bytes), "{hex} should not match {bytes:x?}");
            }
        }
        assert_eq!(one_segment("aa??bbccdd??ee").anchor, 2..5);
        assert_eq!(one_segment("(aa|bb)ccdd").anchor, 1..3);
    }

    #[test]
    fn variable_gaps_cut_segments() {
        let pattern = Pattern::parse("aabb*ccdd{-3}eeff{2-}1122{4-6}3344").expect("valid");
        assert_eq!(pattern.segments.len(), 5);
        assert_eq!(
            pattern.gaps,
            [
                Gap { min: 0, max: None },
                Gap {
                    min: 0,
                    max: Some(3)
                },
                Gap { min: 2, max: None },
                Gap {
                    min: 4,
                    max: Some(6)
                },
            ]
        );
        assert_eq!(pattern.segments[4].anchor_bytes(), [0x33, 0x44]);
    }

    #[test]
    fn malformed_and_unsupported_forms_say_which() {
        let error = |hex: &str| Pattern::parse(hex).expect_err(hex);
        assert!(matches!(error("aab"), PatternError::Invalid(_)));
        assert!(matches!(error("aabb*"), PatternError::Invalid(_)));
        assert!(matches!(error("aagg"), PatternError::Invalid(_)));
        assert!(matches!(error("aabb{3"), PatternError::Invalid(_)));
        assert!(matches!(error("aabb{5-2}cc"), PatternError::Invalid(_)));
        assert!(matches!(error("aa??bb"), PatternError::Unsupported { .. }));
        assert!(matches!(error("aabb(B)"), PatternError::Unsupported { .. }));
        assert!(matches!(
            error("aabb[1-2]cc"),
            PatternError::Unsupported { .. }
        ));
        assert!(matches!(
            error("aabb(01|0203)"),
            PatternError::Unsupported { .. }
        ));
    }
}
