//! ClamAV logical signatures (`.ldb`):
//! `Name;TargetDescriptionBlock;LogicalExpression;Subsig0;Subsig1;...`.
//!
//! The expression combines subsignatures by index with `&`, `|`, parentheses and counts:
//! `A=X`, `A>X`, `A<X` (A's matches, summed over its subsignatures), each with an optional
//! `,Y` (at least Y of A's subsignatures matched at all). The target description may name
//! `Engine`, `Target` and `FileSize`; other keys (PE entry point, section count, container,
//! icon groups) make the signature skipped and counted, never half applied.

use super::{LineError, Offset, Target, Unsupported};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogicalSignature {
    pub name: String,
    pub target: Target,
    /// Inclusive bounds on the file's size.
    pub file_size: Option<(u64, u64)>,
    pub expression: Expression,
    pub subsignatures: usize,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expression {
    Sub(usize),
    All(Vec<Expression>),
    Any(Vec<Expression>),
    Count {
        inner: Box<Expression>,
        compare: Compare,
        count: u64,
        /// At least this many distinct subsignatures matched.
        distinct: Option<u64>,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compare {
    Equal,
    Greater,
    Less,
}

/// One subsignature as written: its offset and hex pattern (the caller parses the pattern).
pub struct Subsignature<'a> {
    pub offset: Offset,
    pub hex: &'a str,
}

/// Parses a line into the signature and its subsignatures' text.
pub fn parse(line: &str) -> Result<(LogicalSignature, Vec<Subsignature<'_>>), LineError> {
    let fields: Vec<&str> = line.split(';').collect();
    let [name, description, expression, subsignatures @ ..] = fields.as_slice() else {
        return Err(LineError::Invalid(
            "expected Name;TargetDescriptionBlock;LogicalExpression;Subsig0;...".into(),
        ));
    };
    if subsignatures.is_empty() || subsignatures.len() > 64 {
        return Err(LineError::Invalid(format!(
            "{} subsignatures: a logical signature has 1 to 64",
            subsignatures.len()
        )));
    }
    let mut target = Target::Any;
    let mut file_size = None;
    for pair in description.split(',').filter(|p| !p.is_empty()) {
        let (key, value) = pair
            .split_once(':')
            .ok_or_else(|| LineError::Invalid(format!("{pair:?} is not Key:Value")))?;
        match key {
            "Engine" => {}
            "Target" => {
                target = Target::from_code(value.parse().map_err(|_| {
                    LineError::Invalid(format!("target {value:?} is not a number"))
                })?)?
            }
            "FileSize" => file_size = Some(range(value).map_err(LineError::Invalid)?),
            _ => return Err(Unsupported::TargetKey.into()),
        }
    }
    let expression = Parser {
        text: expression.as_bytes(),
        at: 0,
        subsignatures: subsignatures.len(),
    }
    .whole()?;
    let named = expression.named_subsignatures();
    if named.len() != subsignatures.len() {
        return Err(LineError::Invalid(format!(
            "the expression names {} of its {} subsignatures; ClamAV requires every one named",
            named.len(),
            subsignatures.len()
        )));
    }
    let parts = subsignatures
        .iter()
        .map(|text| subsignature(text))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((
        LogicalSignature {
            name: super::non_empty_name(name)
                .map_err(LineError::Invalid)?
                .to_owned(),
            target,
            file_size,
            expression,
            subsignatures: parts.len(),
        },
        parts,
    ))
}

fn subsignature(text: &str) -> Result<Subsignature<'_>, LineError> {
    if text.starts_with("${") {
        return Err(Unsupported::Macro.into());
    }
    if text.contains('/') {
        return Err(Unsupported::Pcre.into());
    }
    if text.contains('#') {
        return Err(Unsupported::ByteCompare.into());
    }
    if text.contains("::") {
        return Err(Unsupported::Modifier.into());
    }
    Ok(match text.split_once(':') {
        Some((offset, hex)) => Subsignature {
            offset: Offset::parse(offset)?,
            hex,
        },
        None => Subsignature {
            offset: Offset::Any,
            hex: text,
        },
    })
}

fn range(text: &str) -> Result<(u64, u64), String> {
    let number = |n: &str| {
        n.parse::<u64>()
            .map_err(|_| format!("{text:?} is not a number or range"))
    };
    match text.split_once('-') {
        Some((low, high)) => Ok((number(low)?, number(high)?)),
        None => {
            let n = number(text)?;
            Ok((n, n))
        }
    }
}

struct Parser<'a> {
    text: &'a [u8],
    at: usize,
    subsignatures: usize,
}

impl Parser<'_> {
    fn whole(mut self) -> Result<Expression, LineError> {
        let expression = self.expression()?;
        if self.at != self.text.len() {
            return Err(self.invalid("unexpected text"));
        }
        Ok(expression)
    }

    fn invalid(&self, what: &str) -> LineError {
        LineError::Invalid(format!(
            "logical expression {:?}: {what} at character {}",
            String::from_utf8_lossy(self.text),
            self.at + 1
        ))
    }

    /// Terms joined by one operator: ClamAV's expressions parenthesise to mix `&` and `|`.
    fn expression(&mut self) -> Result<Expression, LineError> {
        let mut terms = vec![self.term()?];
        let mut operator = None;
        while let Some(&next @ (b'&' | b'|')) = self.text.get(self.at) {
            if operator.is_some_and(|op| op != next) {
                return Err(Unsupported::MixedOperators.into());
            }
            operator = Some(next);
            self.at += 1;
            terms.push(self.term()?);
        }
        Ok(match operator {
            None => terms.remove(0),
            Some(b'&') => Expression::All(terms),
            Some(_) => Expression::Any(terms),
        })
    }

    fn term(&mut self) -> Result<Expression, LineError> {
        let atom = if self.text.get(self.at) == Some(&b'(') {
            self.at += 1;
            let inner = self.expression()?;
            if self.text.get(self.at) != Some(&b')') {
                return Err(self.invalid("expected ')'"));
            }
            self.at += 1;
            inner
        } else {
            let index = self.number()? as usize;
            if index >= self.subsignatures {
                return Err(
                    self.invalid(&format!("subsignature {index} of {}", self.subsignatures))
                );
            }
            Expression::Sub(index)
        };
        let compare = match self.text.get(self.at) {
            Some(b'=') => Compare::Equal,
            Some(b'>') => Compare::Greater,
            Some(b'<') => Compare::Less,
            _ => return Ok(atom),
        };
        self.at += 1;
        let count = self.number()?;
        let distinct = if self.text.get(self.at) == Some(&b',') {
            self.at += 1;
            Some(self.number()?)
        } else {
            None
        };
        Ok(Expression::Count {
            inner: Box::new(atom),
            compare,
            count,
            distinct,
        })
    }

    fn number(&mut self) -> Result<u64, LineError> {
        let start = self.at;
        while self.text.get(self.at).is_some_and(u8::is_ascii_digit) {
            self.at += 1;
        }
        std::str::from_utf8(&self.text[start..self.at])
            .ok()
            .and_then(|digits| digits.parse().ok())
            .ok_or_else(|| self.invalid("expected a number"))
    }
}

impl Expression {
    /// Whether the expression holds given each subsignature's match count.
    pub fn holds(&self, counts: &[u64]) -> bool {
        match self {
            Expression::Sub(index) => counts[*index] > 0,
            Expression::All(terms) => terms.iter().all(|t| t.holds(counts)),
            Expression::Any(terms) => terms.iter().any(|t| t.holds(counts)),
            Expression::Count {
                inner,
                compare,
                count,
                distinct,
            } => {
                let (matches, matched) = inner.tally(counts);
                let compared = match compare {
                    Compare::Equal => matches == *count,
                    Compare::Greater => matches > *count,
                    Compare::Less => matches < *count,
                };
                compared && distinct.is_none_or(|least| matched >= least)
            }
        }
    }

    /// The subsignatures the expression names.
    fn named_subsignatures(&self) -> std::collections::BTreeSet<usize> {
        match self {
            Expression::Sub(index) => [*index].into(),
            Expression::All(terms) | Expression::Any(terms) => terms
                .iter()
                .flat_map(Expression::named_subsignatures)
                .collect(),
            Expression::Count { inner, .. } => inner.named_subsignatures(),
        }
    }

    /// (matches, distinct subsignatures matched) over the subsignatures the expression names.
    fn tally(&self, counts: &[u64]) -> (u64, u64) {
        match self {
            Expression::Sub(index) => (counts[*index], u64::from(counts[*index] > 0)),
            Expression::All(terms) | Expression::Any(terms) => {
                terms.iter().fold((0, 0), |(m, d), term| {
                    let (tm, td) = term.tally(counts);
                    (m + tm, d + td)
                })
            }
            Expression::Count { inner, .. } => inner.tally(counts),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expression(line: &str) -> Expression {
        match parse(line) {
            Ok((signature, _)) => signature.expression,
            Err(LineError::Invalid(reason)) => panic!("{line}: {reason}"),
            Err(LineError::Unsupported(kind)) => panic!("{line}: {kind:?}"),
        }
    }

    #[test]
    fn every_operator_evaluates_as_documented() {
        // Each expression names every subsignature, as ClamAV requires.
        let cases: &[(&str, &[u64], bool)] = &[
            ("0&1", &[1, 1], true),
            ("0&1", &[1, 0], false),
            ("0|1", &[0, 1], true),
            ("0|1", &[0, 0], false),
            ("(0|1)&2", &[0, 1, 1], true),
            ("(0|1)&2", &[1, 1, 0], false),
            ("0=2", &[2], true),
            ("0=2", &[3], false),
            ("0>2", &[3], true),
            ("0>2", &[2], false),
            ("0<2", &[1], true),
            ("0<2", &[2], false),
            ("(0|1|2)>3,2", &[3, 1, 0], true),
            ("(0|1|2)>3,2", &[5, 0, 0], false),
            ("(0|1|2)=2,2", &[1, 0, 1], true),
            ("(0|1|2)=2,2", &[2, 0, 0], false),
            ("(0|1)<3,1", &[1, 1], true),
            ("((0&1)|2)=1", &[0, 0, 1], true),
        ];
        for (text, counts, expected) in cases {
            let parts = ";aabb".repeat(counts.len());
            let line = format!("Test;Target:0;{text}{parts}");
            assert_eq!(
                expression(&line).holds(counts),
                *expected,
                "{text} with {counts:?}"
            );
        }
    }

    #[test]
    fn descriptions_and_subsignatures_parse_or_say_why_not() {
        let (signature, parts) =
            parse("Name;Engine:51-255,Target:1,FileSize:10-5000;0&1;aabb;EOF-20,4:ccdd")
                .ok()
                .expect("valid");
        assert_eq!(signature.target, Target::Pe);
        assert_eq!(signature.file_size, Some((10, 5000)));
        assert_eq!(parts[1].offset, Offset::FromEnd { back: 20, shift: 4 });
        assert_eq!(parts[1].hex, "ccdd");
        let unsupported = |line: &str| match parse(line) {
            Err(LineError::Unsupported(kind)) => kind,
            _ => panic!("{line} should be unsupported"),
        };
        assert_eq!(
            unsupported("N;Target:0;0&1;aabb;0/abc/i"),
            Unsupported::Pcre
        );
        assert_eq!(unsupported("N;Target:0;0;aabb::i"), Unsupported::Modifier);
        assert_eq!(
            unsupported("N;EntryPoint:0-10;0;aabb"),
            Unsupported::TargetKey
        );
        assert_eq!(
            unsupported("N;Target:0;0&1|2;aa00;bb00;cc00"),
            Unsupported::MixedOperators
        );
        assert_eq!(
            unsupported("N;Target:0;0;EP+10:aabb"),
            Unsupported::ExecutableOffset
        );
        assert!(matches!(
            parse("N;Target:0;0&3;aabb;ccdd"),
            Err(LineError::Invalid(_))
        ));
        assert!(matches!(parse("N;Target:0;0"), Err(LineError::Invalid(_))));
    }
}
