//! Which deployment a command talks to: a local stack (its state file, or an emulator
//! endpoint) or AWS through the standard configuration chain.

use anyhow::Context;
use clap::Args;
use serde::Deserialize;
use std::path::PathBuf;

#[derive(Args, Clone)]
pub struct TargetArgs {
    /// A JSON file written by `triage local` (endpoint_url, bucket, audit_table, queue URLs).
    #[arg(long)]
    pub state_file: Option<PathBuf>,
    /// Talk to this endpoint (a local emulator) instead of AWS.
    #[arg(long)]
    pub endpoint_url: Option<String>,
}

/// The part of the local stack's state file the commands read.
#[derive(Deserialize, Default)]
pub struct LocalState {
    pub endpoint_url: Option<String>,
    pub bucket: Option<String>,
    pub audit_table: Option<String>,
    pub notifications_topic_arn: Option<String>,
    pub ingest_queue_url: Option<String>,
    /// Where the malware signatures are (s3://bucket/prefix/).
    pub signatures_uri: Option<String>,
}

impl LocalState {
    /// The audit table: `given` (--table or TRIAGE_AUDIT_TABLE), else the state file's.
    pub fn audit_table(&self, given: Option<String>) -> anyhow::Result<String> {
        given.or_else(|| self.audit_table.clone()).ok_or_else(|| {
            anyhow::anyhow!(
                "which audit table? pass --table, set TRIAGE_AUDIT_TABLE, or pass --state-file"
            )
        })
    }
}

/// An S3 client for `config` that names buckets in the path: what the emulator's single
/// endpoint needs, and what AWS serves as well.
pub fn s3_client(config: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(config)
            .force_path_style(true)
            .build(),
    )
}

/// The deployment's SDK configuration and what the state file (if any) names.
pub struct Target {
    pub config: aws_config::SdkConfig,
    pub state: LocalState,
}

impl TargetArgs {
    pub async fn resolve(&self) -> anyhow::Result<Target> {
        let state: LocalState = match &self.state_file {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("reading {}", path.display()))?;
                serde_json::from_str(&text)
                    .with_context(|| format!("{} is not a triage state file", path.display()))?
            }
            None => LocalState::default(),
        };
        // A local stack gets the emulator's credentials and region; AWS gets the standard chain.
        let config = match self.endpoint_url.clone().or(state.endpoint_url.clone()) {
            Some(endpoint) => emulator::sdk_config(&endpoint).await,
            None => aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await,
        };
        Ok(Target { config, state })
    }
}
