//! What the pipeline made of files a command uploaded itself (`demo`'s samples, `selftest`'s
//! canaries): waiting for each one's outcome and checking that the outcome is true.

use crate::CanaryError;
use audit::{AuditEntry, AuditTrail};
use compliance::checker::Severity;
use compliance::tags::VerdictTags;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use worker_common::outputs::Output;

/// Deterministic CSV of exactly `size` bytes: a block of numbered rows, repeated.
pub fn generated_csv(size: usize) -> Vec<u8> {
    let block: String = (0..20_000)
        .map(|row| {
            format!(
                "sensor-{},{},{}\n",
                row % 97,
                1_700_000_000 + row,
                row * 31 % 1000
            )
        })
        .collect();
    let mut body = Vec::with_capacity(size);
    body.extend_from_slice(b"sensor,timestamp,value\n");
    while body.len() < size {
        let take = block.len().min(size - body.len());
        body.extend_from_slice(&block.as_bytes()[..take]);
    }
    body.truncate(size);
    body
}

/// Why a record does not describe what happened to the upload, if it does not: its sha256,
/// and the sha256 stated by any manifest among its outputs, must be the upload's; an INFECTED
/// upload must carry its verdict tag.
pub async fn outcome_error(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    entry: &AuditEntry,
    uploaded: Option<&str>,
    tags: &VerdictTags,
) -> Result<Option<String>, CanaryError> {
    let Some(uploaded) = uploaded else {
        return Ok(None);
    };
    if entry.sha256.as_deref().is_some_and(|sha| sha != uploaded) {
        return Ok(Some("recorded sha256 is not the upload's".into()));
    }
    if entry.stage == compliance::verdict::VERDICT_STAGE {
        let Some(verdict) = entry
            .status
            .parse::<audit::Status>()
            .ok()
            .and_then(Severity::of_recorded)
        else {
            return Ok(Some(format!("{} is no verdict", entry.status)));
        };
        let tagging = s3
            .get_object_tagging()
            .bucket(bucket)
            .key(&entry.key)
            .send()
            .await
            .map_err(|err| CanaryError::s3(format!("reading the tags of {}", entry.key), err))?;
        let value = tags.value(verdict);
        if !tagging
            .tag_set()
            .iter()
            .any(|t| t.key() == tags.key && t.value() == value)
        {
            return Ok(Some(format!(
                "{} but not tagged {}={value}",
                entry.status, tags.key
            )));
        }
    }
    for listed in entry
        .outputs
        .iter()
        .filter(|key| key.ends_with("manifest.json"))
    {
        let manifest = Output::from_listed(listed, bucket);
        let manifest_key = &manifest.key;
        let stored = s3
            .get_object()
            .bucket(&manifest.bucket)
            .key(manifest_key)
            .send()
            .await
            .map_err(|err| CanaryError::s3(format!("reading {manifest_key}"), err))?;
        let body = stored
            .body
            .collect()
            .await
            .map_err(|err| CanaryError::s3(format!("reading {manifest_key}"), err))?
            .into_bytes();
        let manifest: serde_json::Value = match serde_json::from_slice(&body) {
            Ok(manifest) => manifest,
            Err(err) => return Ok(Some(format!("manifest {manifest_key} is not JSON: {err}"))),
        };
        if manifest["sha256"].as_str() != Some(uploaded) {
            return Ok(Some("manifest sha256 is not the upload's".into()));
        }
    }
    Ok(None)
}

/// Polls the audit trail until every key has a complete record from its stage (`stages`: key
/// -> stage). Keys still without one at the deadline get their unfinished record, if any, so
/// a table can show where they stopped. `what` names the keys in progress lines.
pub async fn wait_for(
    trail: &AuditTrail,
    bucket: &str,
    stages: &BTreeMap<String, String>,
    timeout: Duration,
    what: &str,
) -> Result<BTreeMap<String, AuditEntry>, CanaryError> {
    let deadline = Instant::now() + timeout;
    let total = stages.len();
    let mut outcomes = BTreeMap::new();
    let mut reported = 0;
    while outcomes.len() < total {
        let pending: Vec<(&String, &String)> = stages
            .iter()
            .filter(|(key, _)| !outcomes.contains_key(*key))
            .collect();
        let last_pass = Instant::now() >= deadline;
        for (key, stage) in pending {
            let history = trail.object_history(bucket, key).await?;
            if let Some(entry) = history
                .into_iter()
                .find(|e| &e.stage == stage && (e.is_complete() || last_pass))
            {
                outcomes.insert(key.clone(), entry);
            }
        }
        if outcomes.len() != reported {
            reported = outcomes.len();
            eprintln!("==> {reported}/{total} {what} have an outcome");
        }
        if last_pass {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    Ok(outcomes)
}
