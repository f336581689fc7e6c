//! The routing policy: an ordered rule table, validated once at start-up, applied per object.

use object_events::{ContentKind, ObjectKey, Tier};
use serde::{Deserialize, Deserializer};
use std::fmt;
use worker_common::outputs::Outputs;

pub use object_events::size::{human, GIB, KIB, MIB};
/// The largest object any tier accepts (the large-file task's limit).
pub const DEFAULT_LARGE_LIMIT: u64 = 5 * GIB;
pub use platform::config::DEFAULT_RESERVED_PREFIX;

/// One row of the table: objects under `prefix` (in `bucket`, if given; of the listed `kinds`,
/// if given) whose size is in `min_size..=max_size` go to `tier`. Matching objects above
/// `max_size` go to the large tier. A rule without a bucket applies to every watched bucket.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub name: String,
    #[serde(default)]
    pub bucket: Option<String>,
    pub prefix: String,
    #[serde(default)]
    pub kinds: Option<Vec<ContentKind>>,
    #[serde(default, deserialize_with = "size::optional")]
    pub min_size: Option<u64>,
    #[serde(default, deserialize_with = "size::optional")]
    pub max_size: Option<u64>,
    pub tier: Tier,
}

/// What the router does with one object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    Route {
        tier: Tier,
        rule: String,
        /// Why the tier differs from the rule's own, when it does (oversize objects).
        note: Option<String>,
    },
    Reject {
        reason: String,
    },
    Ignore {
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("the routing table has no rules")]
    Empty,
    #[error("rule #{index} has an empty name")]
    Unnamed { index: usize },
    #[error("two rules are named {0:?}")]
    DuplicateName(String),
    #[error("rule {rule:?}: {problem}")]
    Invalid { rule: String, problem: String },
    #[error(
        "rule {rule:?} is unreachable: every object it matches is taken by the earlier rule {by:?}"
    )]
    Unreachable { rule: String, by: String },
    #[error(
        "rules {first:?} and {second:?} overlap: some objects match both and neither is a narrower \
         exception to the other (put the narrower rule first, or make them disjoint)"
    )]
    Overlap { first: String, second: String },
    #[error("routing rules are not valid JSON: {0}")]
    Syntax(String),
}

/// A validated rule table plus the two limits that apply to every rule.
#[derive(Clone, Debug)]
pub struct RoutingPolicy {
    rules: Vec<Rule>,
    /// The reserved prefix, and where watched buckets' outputs are kept: what tells an output,
    /// never routed, from an attachment, routed as its source.
    outputs: Outputs,
    large_limit: u64,
}

impl RoutingPolicy {
    /// `uploads/images/` up to 20 MiB -> thumbnail, `uploads/documents/` up to 100 MiB ->
    /// document, `uploads/compliance/` -> compliance; larger objects -> large, up to 5 GiB.
    pub fn default_rules() -> Vec<Rule> {
        let rule = |name: &str, prefix: &str, max_size: Option<u64>, tier: Tier| Rule {
            name: name.into(),
            bucket: None,
            prefix: prefix.into(),
            kinds: None,
            min_size: None,
            max_size,
            tier,
        };
        vec![
            rule("images", "uploads/images/", Some(20 * MIB), Tier::Thumbnail),
            rule(
                "documents",
                "uploads/documents/",
                Some(100 * MIB),
                Tier::Document,
            ),
            rule("compliance", "uploads/compliance/", None, Tier::Compliance),
        ]
    }

    pub fn parse_rules(json: &str) -> Result<Vec<Rule>, PolicyError> {
        serde_json::from_str(json).map_err(|err| PolicyError::Syntax(err.to_string()))
    }

    /// Parses a size as the rule table writes it: bytes, or a number with B, KiB, MiB or GiB.
    pub fn parse_size(text: &str) -> Result<u64, String> {
        object_events::size::parse(text)
    }

    /// A policy for buckets that keep their own outputs under `reserved_prefix`.
    pub fn new(
        rules: Vec<Rule>,
        reserved_prefix: impl Into<String>,
        large_limit: u64,
    ) -> Result<Self, PolicyError> {
        Self::with_outputs(rules, Outputs::in_place(reserved_prefix), large_limit)
    }

    pub fn with_outputs(
        rules: Vec<Rule>,
        outputs: Outputs,
        large_limit: u64,
    ) -> Result<Self, PolicyError> {
        let policy = Self {
            rules,
            outputs,
            large_limit,
        };
        policy.validate()?;
        Ok(policy)
    }

    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    pub fn reserved_prefix(&self) -> &str {
        &self.outputs.reserved_prefix
    }

    /// What becomes of object `key` of `size` bytes in `bucket`. An e-mail's attachment, kept
    /// under the reserved prefix, is routed by the rules its e-mail was: as if uploaded beside
    /// it.
    pub fn route(&self, bucket: &str, key: &ObjectKey, size: u64) -> Decision {
        let (bucket, key_str) = self.outputs.routed_as(bucket, key.as_str());
        if key_str.starts_with(self.reserved_prefix()) {
            return Decision::Ignore {
                reason: format!(
                    "key is under the reserved output prefix {:?}",
                    self.reserved_prefix()
                ),
            };
        }
        let kind = ContentKind::from_key(key);
        let mut candidates = self
            .rules
            .iter()
            .filter(|rule| rule.watches(bucket) && key_str.starts_with(&rule.prefix))
            .filter(|rule| rule.accepts(kind))
            .peekable();
        if candidates.peek().is_none() {
            return Decision::Ignore {
                reason: "key matches no routing rule".into(),
            };
        }
        if size == 0 {
            return Decision::Reject {
                reason: "empty object (0 bytes)".into(),
            };
        }
        if size > self.large_limit {
            return Decision::Reject {
                reason: format!(
                    "{} exceeds the {} limit of every tier",
                    human(size),
                    human(self.large_limit)
                ),
            };
        }
        let mut outgrown = None;
        for rule in candidates {
            let (min, max) = self.range(rule);
            if (min..=max).contains(&size) {
                return Decision::Route {
                    tier: rule.tier,
                    rule: rule.name.clone(),
                    note: None,
                };
            }
            if size > max && outgrown.is_none() {
                outgrown = Some((rule, max));
            }
        }
        match outgrown {
            Some((rule, max)) => Decision::Route {
                tier: Tier::Large,
                rule: rule.name.clone(),
                note: Some(format!(
                    "{} exceeds rule {:?}'s {} limit for the {} tier",
                    human(size),
                    rule.name,
                    human(max),
                    rule.tier
                )),
            },
            None => Decision::Reject {
                reason: format!(
                    "{} is below the minimum size of every matching rule",
                    human(size)
                ),
            },
        }
    }

    fn range(&self, rule: &Rule) -> (u64, u64) {
        (
            rule.min_size.unwrap_or(1),
            rule.max_size.unwrap_or(self.large_limit),
        )
    }

    fn validate(&self) -> Result<(), PolicyError> {
        if self.rules.is_empty() {
            return Err(PolicyError::Empty);
        }
        for (index, rule) in self.rules.iter().enumerate() {
            if rule.name.trim().is_empty() {
                return Err(PolicyError::Unnamed { index });
            }
            if self.rules[..index]
                .iter()
                .any(|earlier| earlier.name == rule.name)
            {
                return Err(PolicyError::DuplicateName(rule.name.clone()));
            }
            self.validate_rule(rule)
                .map_err(|problem| PolicyError::Invalid {
                    rule: rule.name.clone(),
                    problem,
                })?;
        }
        for (later_index, later) in self.rules.iter().enumerate() {
            for earlier in &self.rules[..later_index] {
                if !self.intersect(earlier, later) || self.is_exception(earlier, later) {
                    continue;
                }
                return Err(if self.covers(earlier, later) {
                    PolicyError::Unreachable {
                        rule: later.name.clone(),
                        by: earlier.name.clone(),
                    }
                } else {
                    PolicyError::Overlap {
                        first: earlier.name.clone(),
                        second: later.name.clone(),
                    }
                });
            }
        }
        Ok(())
    }

    fn validate_rule(&self, rule: &Rule) -> Result<(), String> {
        let reserved = self.reserved_prefix();
        if rule.prefix.starts_with(reserved) || reserved.starts_with(&rule.prefix) {
            return Err(format!(
                "prefix {:?} would match outputs under the reserved prefix {reserved:?}, so processing would trigger itself",
                rule.prefix
            ));
        }
        if rule.kinds.as_ref().is_some_and(Vec::is_empty) {
            return Err("kinds is empty; omit it to match every kind".into());
        }
        let (min, max) = self.range(rule);
        if min == 0 {
            return Err(
                "min_size must be at least 1 byte: empty objects are always rejected".into(),
            );
        }
        if min > max {
            return Err(format!(
                "min_size {} is above max_size {}",
                human(min),
                human(max)
            ));
        }
        if max > self.large_limit {
            return Err(format!(
                "max_size {} is above the {} limit",
                human(max),
                human(self.large_limit)
            ));
        }
        Ok(())
    }

    /// Whether some object matches both rules.
    fn intersect(&self, a: &Rule, b: &Rule) -> bool {
        let buckets_meet = match (&a.bucket, &b.bucket) {
            (Some(a_bucket), Some(b_bucket)) => a_bucket == b_bucket,
            _ => true,
        };
        let prefixes_nest = a.prefix.starts_with(&b.prefix) || b.prefix.starts_with(&a.prefix);
        let kinds_meet = match (&a.kinds, &b.kinds) {
            (Some(a_kinds), Some(b_kinds)) => a_kinds.iter().any(|kind| b_kinds.contains(kind)),
            _ => true,
        };
        let ((a_min, a_max), (b_min, b_max)) = (self.range(a), self.range(b));
        buckets_meet && prefixes_nest && kinds_meet && a_min <= b_max && b_min <= a_max
    }

    /// Whether every object `inner` matches is also matched by `outer`.
    fn covers(&self, outer: &Rule, inner: &Rule) -> bool {
        let ((outer_min, outer_max), (inner_min, inner_max)) =
            (self.range(outer), self.range(inner));
        within_scope(inner, outer) && outer_min <= inner_min && inner_max <= outer_max
    }

    /// Whether `earlier` deliberately carves an exception out of `later`: a narrower prefix or
    /// kind list (any sizes), or the same scope with a size range inside the later one's.
    fn is_exception(&self, earlier: &Rule, later: &Rule) -> bool {
        self.covers(later, earlier)
            || (within_scope(earlier, later) && !within_scope(later, earlier))
    }
}

/// Whether every key `inner` matches by bucket, prefix and kind, `outer` matches too (sizes
/// aside).
fn within_scope(inner: &Rule, outer: &Rule) -> bool {
    let bucket_within = match (&outer.bucket, &inner.bucket) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(outer_bucket), Some(inner_bucket)) => outer_bucket == inner_bucket,
    };
    let kinds_within = match (&outer.kinds, &inner.kinds) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(outer_kinds), Some(inner_kinds)) => {
            inner_kinds.iter().all(|k| outer_kinds.contains(k))
        }
    };
    bucket_within && inner.prefix.starts_with(&outer.prefix) && kinds_within
}

impl Rule {
    /// Whether the rule applies to objects of `bucket`.
    pub fn watches(&self, bucket: &str) -> bool {
        self.bucket.as_deref().is_none_or(|own| own == bucket)
    }

    fn accepts(&self, kind: ContentKind) -> bool {
        self.kinds
            .as_ref()
            .is_none_or(|kinds| kinds.contains(&kind))
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.bucket {
            Some(bucket) => write!(
                f,
                "{}: s3://{bucket}/{}* -> {}",
                self.name, self.prefix, self.tier
            ),
            None => write!(f, "{}: {}* -> {}", self.name, self.prefix, self.tier),
        }
    }
}

/// Sizes in the rule table may be byte counts or strings with a binary unit: `"20 MiB"`.
mod size {
    use super::*;

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Size {
        Bytes(u64),
        Text(String),
    }

    pub fn optional<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u64>, D::Error> {
        match Option::<Size>::deserialize(deserializer)? {
            None => Ok(None),
            Some(Size::Bytes(bytes)) => Ok(Some(bytes)),
            Some(Size::Text(text)) => object_events::size::parse(&text)
                .map(Some)
                .map_err(serde::de::Error::custom),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(k: &str) -> ObjectKey {
        ObjectKey::new(k).expect("valid key")
    }

    fn default_policy() -> RoutingPolicy {
        RoutingPolicy::new(
            RoutingPolicy::default_rules(),
            DEFAULT_RESERVED_PREFIX,
            DEFAULT_LARGE_LIMIT,
        )
        .expect("defaults are valid")
    }

    fn tier_of(decision: Decision) -> Option<Tier> {
        match decision {
            Decision::Route { tier, .. } => Some(tier),
            _ => None,
        }
    }

    #[test]
    fn size_boundaries_of_the_default_table() {
        let policy = default_policy();
        let image = key("uploads/images/cat.jpg");
        assert_eq!(
            tier_of(policy.route("uploads", &image, 1)),
            Some(Tier::Thumbnail)
        );
        assert_eq!(
            tier_of(policy.route("uploads", &image, 20 * MIB)),
            Some(Tier::Thumbnail)
        );
        assert_eq!(
            tier_of(policy.route("uploads", &image, 20 * MIB + 1)),
            Some(Tier::Large)
        );
        assert_eq!(
            tier_of(policy.route("uploads", &image, 5 * GIB)),
            Some(Tier::Large)
        );
        assert!(matches!(
            policy.route("uploads", &image, 5 * GIB + 1),
            Decision::Reject { .. }
        ));
        assert_eq!(
            policy.route("uploads", &image, 0),
            Decision::Reject {
                reason: "empty object (0 bytes)".into()
            }
        );

        let document = key("uploads/documents/report.pdf");
        assert_eq!(
            tier_of(policy.route("uploads", &document, 100 * MIB)),
            Some(Tier::Document)
        );
        assert_eq!(
            tier_of(policy.route("uploads", &document, 100 * MIB + 1)),
            Some(Tier::Large)
        );
        let compliance = key("uploads/compliance/ledger.csv");
        assert_eq!(
            tier_of(policy.route("uploads", &compliance, 5 * GIB)),
            Some(Tier::Compliance)
        );
    }

    #[test]
    fn oversize_routes_explain_themselves_and_rejections_give_reasons() {
        let policy = default_policy();
        assert_eq!(
            policy.route("uploads", &key("uploads/images/huge.png"), 21 * MIB),
            Decision::Route {
                tier: Tier::Large,
                rule: "images".into(),
                note: Some(
                    "21 MiB exceeds rule \"images\"'s 20 MiB limit for the thumbnail tier".into()
                ),
            }
        );
        assert_eq!(
            policy.route("uploads", &key("uploads/images/huge.png"), 5 * GIB + 1),
            Decision::Reject {
                reason: "5368709121 bytes exceeds the 5 GiB limit of every tier".into()
            }
        );
    }

    #[test]
    fn keys_outside_prefixes_and_outputs_are_ignored() {
        let policy = default_policy();
        assert!(matches!(
            policy.route("uploads", &key("elsewhere/cat.jpg"), 10),
            Decision::Ignore { .. }
        ));
        assert!(matches!(
            policy.route("uploads", &key("uploads/cat.jpg"), 10),
            Decision::Ignore { .. }
        ));
        assert!(matches!(
            policy.route(
                "uploads",
                &key("processed/thumbnails/uploads/images/cat.jpg"),
                10
            ),
            Decision::Ignore { .. }
        ));
        // Ignoring wins over rejecting: an empty object nobody routes is not ours to judge.
        assert!(matches!(
            policy.route("uploads", &key("elsewhere/empty"), 0),
            Decision::Ignore { .. }
        ));
    }

    fn rules(json: &str) -> Result<RoutingPolicy, PolicyError> {
        RoutingPolicy::new(
            RoutingPolicy::parse_rules(json)?,
            DEFAULT_RESERVED_PREFIX,
            DEFAULT_LARGE_LIMIT,
        )
    }

    #[test]
    fn a_rule_naming_a_bucket_routes_that_buckets_objects_and_the_shared_rules_the_rest() {
        let policy = rules(
            r#"[{"name":"team-scans","bucket":"team-media","prefix":"uploads/","kinds":["pdf"],"tier":"document"},
                {"name":"team-photos","bucket":"team-media","prefix":"photos/","tier":"thumbnail"},
                {"name":"everything","prefix":"uploads/","tier":"compliance"}]"#,
        )
        .expect("valid: the bucket's rule is a narrower exception placed first");
        let scan = key("uploads/scan.pdf");
        assert_eq!(
            tier_of(policy.route("team-media", &scan, 5)),
            Some(Tier::Document)
        );
        assert_eq!(
            tier_of(policy.route("s3-triage-prod-uploads", &scan, 5)),
            Some(Tier::Compliance)
        );
        assert_eq!(
            tier_of(policy.route("team-media", &key("photos/cat.jpg"), 5)),
            Some(Tier::Thumbnail)
        );
        assert!(matches!(
            policy.route("s3-triage-prod-uploads", &key("photos/cat.jpg"), 5),
            Decision::Ignore { .. }
        ));
        assert_eq!(
            policy.rules()[1].to_string(),
            "team-photos: s3://team-media/photos/* -> thumbnail"
        );
    }

    #[test]
    fn an_attachment_is_routed_by_its_e_mails_rules_and_other_outputs_never() {
        let outputs = Outputs {
            reserved_prefix: DEFAULT_RESERVED_PREFIX.into(),
            elsewhere: [("team-media".to_owned(), "stack-uploads".to_owned())].into(),
        };
        let policy = RoutingPolicy::with_outputs(
            RoutingPolicy::parse_rules(
                r#"[{"name":"team-mail","bucket":"team-media","prefix":"mail/","tier":"compliance"},
                    {"name":"documents","prefix":"uploads/documents/","tier":"document"}]"#,
            )
            .expect("rules"),
            outputs,
            DEFAULT_LARGE_LIMIT,
        )
        .expect("valid");
        let attachment = "processed/attachments/uploads/documents/q3.eml/v1/1-report.pdf";
        assert_eq!(
            policy.route("stack-uploads", &key(attachment), 5),
            Decision::Route {
                tier: Tier::Document,
                rule: "documents".into(),
                note: None,
            }
        );
        // Kept in the stack's bucket, a watched bucket's attachment follows that bucket's rules.
        let theirs = "processed/attachments/team-media/mail/q3.eml/v1/1-report.pdf";
        assert_eq!(
            tier_of(policy.route("stack-uploads", &key(theirs), 5)),
            Some(Tier::Compliance)
        );
        // An attachment of an attached e-mail, at any depth.
        let nested = format!("processed/attachments/{attachment}/v2/1-scan.pdf");
        assert_eq!(
            tier_of(policy.route("stack-uploads", &key(&nested), 5)),
            Some(Tier::Document)
        );
        for output in [
            "processed/text/uploads/documents/q3.eml/v1/text.txt",
            "processed/attachments/processed/text/uploads/documents/a.pdf/v1/text.txt",
        ] {
            assert!(
                matches!(
                    policy.route("stack-uploads", &key(output), 5),
                    Decision::Ignore { ref reason } if reason.contains("reserved output prefix")
                ),
                "{output}"
            );
        }
        // An attachment of an e-mail no rule routes any more is routed nowhere either.
        assert!(matches!(
            policy.route("stack-uploads", &key("processed/attachments/old/q3.eml/1-a.pdf"), 5),
            Decision::Ignore { ref reason } if reason == "key matches no routing rule"
        ));
    }

    #[test]
    fn a_buckets_rule_after_a_shared_one_on_its_prefix_is_unreachable_and_two_buckets_never_meet() {
        assert_eq!(
            rules(
                r#"[{"name":"everything","prefix":"uploads/","tier":"compliance"},
                    {"name":"team","bucket":"team-media","prefix":"uploads/images/","tier":"thumbnail"}]"#,
            )
            .err(),
            Some(PolicyError::Unreachable {
                rule: "team".into(),
                by: "everything".into()
            })
        );
        rules(
            r#"[{"name":"a","bucket":"bucket-a","prefix":"uploads/","tier":"compliance"},
                {"name":"b","bucket":"bucket-b","prefix":"uploads/","tier":"thumbnail"}]"#,
        )
        .expect("the same prefix in two buckets is two scopes");
    }

    #[test]
    fn rules_parse_sizes_with_units_and_kinds() {
        let policy = rules(
            r#"[{"name":"pdf-only","prefix":"in/","kinds":["pdf"],"max_size":"10 MiB","tier":"document"},
                {"name":"pics","prefix":"in/","kinds":["image"],"max_size":1048576,"tier":"thumbnail"}]"#,
        )
        .expect("valid");
        assert_eq!(policy.rules()[0].max_size, Some(10 * MIB));
        assert_eq!(
            tier_of(policy.route("uploads", &key("in/a.PDF"), 5)),
            Some(Tier::Document)
        );
        assert_eq!(
            tier_of(policy.route("uploads", &key("in/a.png"), 5)),
            Some(Tier::Thumbnail)
        );
        assert!(matches!(
            policy.route("uploads", &key("in/a.zip"), 5),
            Decision::Ignore { .. }
        ));
    }

    #[test]
    fn a_narrower_rule_first_is_an_exception_not_an_overlap() {
        let policy = rules(
            r#"[{"name":"scans","prefix":"uploads/images/scans/","tier":"compliance"},
                {"name":"images","prefix":"uploads/images/","max_size":"20 MiB","tier":"thumbnail"}]"#,
        )
        .expect("exception first is fine");
        assert_eq!(
            tier_of(policy.route("uploads", &key("uploads/images/scans/a.png"), 1)),
            Some(Tier::Compliance)
        );
        assert_eq!(
            tier_of(policy.route("uploads", &key("uploads/images/a.png"), 1)),
            Some(Tier::Thumbnail)
        );
    }

    #[test]
    fn validation_names_the_offending_rules() {
        let unreachable = rules(
            r#"[{"name":"images","prefix":"uploads/images/","tier":"thumbnail"},
                {"name":"scans","prefix":"uploads/images/scans/","tier":"compliance"}]"#,
        );
        assert_eq!(
            unreachable.expect_err("shadowed").to_string(),
            "rule \"scans\" is unreachable: every object it matches is taken by the earlier rule \"images\""
        );
        let overlap = rules(
            r#"[{"name":"small","prefix":"up/","max_size":"10 MiB","tier":"thumbnail"},
                {"name":"mid","prefix":"up/","min_size":"5 MiB","max_size":"50 MiB","tier":"document"}]"#,
        );
        assert_eq!(
            overlap.expect_err("overlap"),
            PolicyError::Overlap {
                first: "small".into(),
                second: "mid".into()
            }
        );
        let disjoint = rules(
            r#"[{"name":"small","prefix":"up/","max_size":"10 MiB","tier":"thumbnail"},
                {"name":"big","prefix":"up/","min_size":10485761,"tier":"large"}]"#,
        );
        assert!(disjoint.is_ok(), "{disjoint:?}");
    }

    #[test]
    fn rules_that_could_match_outputs_are_refused() {
        for prefix in ["", "p", "processed/", "processed/thumbnails/"] {
            let json = format!(r#"[{{"name":"r","prefix":"{prefix}","tier":"thumbnail"}}]"#);
            let err = rules(&json).expect_err(prefix);
            assert!(
                err.to_string().contains("reserved prefix"),
                "{prefix:?}: {err}"
            );
        }
    }

    #[test]
    fn malformed_tables_are_refused_with_reasons() {
        let err = |json: &str| rules(json).expect_err(json).to_string();
        assert_eq!(err("[]"), "the routing table has no rules");
        assert!(
            err(r#"[{"name":"a","prefix":"x/","tier":"thumbnails"}]"#).contains("unknown variant")
        );
        assert!(
            err(r#"[{"name":"a","prefix":"x/","tier":"large","colour":1}]"#)
                .contains("unknown field")
        );
        assert!(
            err(r#"[{"name":"a","prefix":"x/","max_size":"3 TB","tier":"large"}]"#)
                .contains("unknown unit")
        );
        assert_eq!(
            err(
                r#"[{"name":"a","prefix":"x/","tier":"large"},{"name":"a","prefix":"y/","tier":"large"}]"#
            ),
            "two rules are named \"a\""
        );
        assert!(
            err(r#"[{"name":"a","prefix":"x/","max_size":"6 GiB","tier":"large"}]"#)
                .contains("above the 5 GiB")
        );
        assert!(
            err(r#"[{"name":"a","prefix":"x/","min_size":9,"max_size":3,"tier":"large"}]"#)
                .contains("above max_size")
        );
        assert!(
            err(r#"[{"name":"a","prefix":"x/","kinds":[],"tier":"large"}]"#)
                .contains("kinds is empty")
        );
    }

    proptest::proptest! {
        #[test]
        fn every_size_gets_exactly_the_documented_outcome(size in proptest::prop_oneof![
            0u64..=2 * GIB,
            (20 * MIB - 2)..=(20 * MIB + 2),
            (5 * GIB - 2)..=(5 * GIB + 2),
            proptest::num::u64::ANY,
        ]) {
            let decision = default_policy().route("uploads", &key("uploads/images/x.webp"), size);
            let expected = match size {
                0 => None,
                1..=20_971_520 => Some(Tier::Thumbnail),
                20_971_521..=5_368_709_120 => Some(Tier::Large),
                _ => None,
            };
            proptest::prop_assert_eq!(tier_of(decision.clone()), expected);
            proptest::prop_assert_eq!(matches!(decision, Decision::Reject { .. }), expected.is_none());
        }
    }

    #[test]
    fn human_sizes() {
        assert_eq!(human(20 * MIB), "20 MiB");
        assert_eq!(human(5 * GIB), "5 GiB");
        assert_eq!(human(MIB + 1), "1048577 bytes");
        assert_eq!(object_events::size::parse("20MiB"), Ok(20 * MIB));
        assert_eq!(object_events::size::parse(" 7 "), Ok(7));
    }
}
