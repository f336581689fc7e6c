//! Test support for the workspace's tests, a dev-dependency only, so no release binary carries
//! it: [`resources`] (uniquely named queues, topics and functions on the shared emulator),
//! [`stage`] (a worker stage's world: bucket, audit table, notifications), [`corpus`] (the
//! real-world files, when a corpus folder is configured), [`pdf`], [`office`] and [`documents`]
//! (documents generated with known content, hostile ones included) and [`images`] (images with
//! known damage, multi-page TIFFs, AVIF photos).

pub mod archives;
pub mod corpus;
pub mod documents;
pub mod images;
pub mod json_schema;
pub mod office;
pub mod pdf;
pub mod resources;
pub mod stage;

/// Values for the variables every worker's audit settings need.
pub const AUDIT_PLACEHOLDERS: [(&str, &str); 3] = [
    (platform::config::ENVIRONMENT, "test"),
    (audit::settings::AUDIT_TABLE, "audit"),
    (
        audit::settings::NOTIFICATIONS_TOPIC_ARN,
        "arn:aws:sns:us-east-1:123456789012:notifications",
    ),
];
