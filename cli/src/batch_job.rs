//! `triage backfill --batch-operations`: the backfill at AWS's scale. Instead of listing on this
//! machine and sending to the ingest queue, one S3 Batch Operations job (over a manifest S3
//! generates from a prefix, or over an S3 Inventory report) invokes the router once per object;
//! the router answers each task (router/src/batch_operations.rs) and the job's completion
//! report, under the reserved prefix, lists every task's outcome.

use anyhow::{bail, Context};
use aws_sdk_s3control::operation::create_job::builders::CreateJobFluentBuilder;
use aws_sdk_s3control::types::{
    JobManifest, JobManifestFormat, JobManifestGenerator, JobManifestGeneratorFilter,
    JobManifestLocation, JobManifestSpec, JobOperation, JobReport, JobReportFormat, JobReportScope,
    KeyNameConstraint, LambdaInvokeOperation, S3JobManifestGenerator,
};
use chrono::{DateTime, Utc};
use object_events::Run;

/// The schema whose tasks name their bucket (the router reads 1.0 too).
const INVOCATION_SCHEMA: &str = "2.0";
/// Below the default 10 of jobs an operator starts by hand, so a backfill yields to them.
const PRIORITY: i32 = 5;

/// What the job goes over.
pub enum JobSource {
    /// A manifest S3 generates: the bucket's objects under `prefix`.
    Prefix(String),
    /// An S3 Inventory report's manifest.json and its ETag (the job refuses a changed one).
    Inventory { manifest_arn: String, etag: String },
}

pub struct JobSpec {
    pub bucket: String,
    pub source: JobSource,
    pub role_arn: String,
    pub router_arn: String,
    /// The bucket the completion report goes to: the stack's (its role may write there alone).
    pub report_bucket: String,
    /// Where in `report_bucket` the report goes.
    pub report_prefix: String,
    /// When the operator asked: with the source, what makes the request's idempotency token,
    /// so a retried CreateJob makes one job and a later backfill a new one.
    pub requested_at: DateTime<Utc>,
}

impl JobSpec {
    /// The account the job runs in: the role's.
    pub fn account_id(&self) -> anyhow::Result<&str> {
        match self.role_arn.split(':').nth(4) {
            Some(account) if account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()) => {
                Ok(account)
            }
            _ => bail!(
                "--role-arn {:?} is not a role ARN (arn:aws:iam::<account>:role/<name>); terraform's batch_operations output has it",
                self.role_arn
            ),
        }
    }

    /// The CreateJob request, unsent.
    pub fn request(
        &self,
        client: &aws_sdk_s3control::Client,
    ) -> anyhow::Result<CreateJobFluentBuilder> {
        let bucket_arn = format!("arn:aws:s3:::{}", self.bucket);
        // Named like a run: the time asked and a digest of what, so it sorts and tells apart.
        let token = Run::requested(self.requested_at, &self.describe());
        let request = client
            .create_job()
            .account_id(self.account_id()?)
            .confirmation_required(false)
            .priority(PRIORITY)
            .role_arn(&self.role_arn)
            .set_client_request_token(token.id().map(str::to_owned))
            .description(format!("s3-triage backfill: {}", self.describe()))
            .operation(
                JobOperation::builder()
                    .lambda_invoke(
                        LambdaInvokeOperation::builder()
                            .function_arn(&self.router_arn)
                            .invocation_schema_version(INVOCATION_SCHEMA)
                            .build(),
                    )
                    .build(),
            )
            .report(
                JobReport::builder()
                    .bucket(format!("arn:aws:s3:::{}", self.report_bucket))
                    .prefix(self.report_prefix.trim_end_matches('/'))
                    .format(JobReportFormat::ReportCsv20180820)
                    .report_scope(JobReportScope::AllTasks)
                    .enabled(true)
                    .build(),
            );
        Ok(match &self.source {
            JobSource::Prefix(prefix) => {
                request.manifest_generator(JobManifestGenerator::S3JobManifestGenerator(
                    S3JobManifestGenerator::builder()
                        .source_bucket(&bucket_arn)
                        .enable_manifest_output(false)
                        .filter(
                            JobManifestGeneratorFilter::builder()
                                .key_name_constraint(
                                    KeyNameConstraint::builder()
                                        .match_any_prefix(prefix)
                                        .build(),
                                )
                                .build(),
                        )
                        .build()
                        .context("the manifest generator")?,
                ))
            }
            JobSource::Inventory { manifest_arn, etag } => request.manifest(
                JobManifest::builder()
                    .spec(
                        JobManifestSpec::builder()
                            .format(JobManifestFormat::S3InventoryReportCsv20161130)
                            .build()
                            .context("the manifest spec")?,
                    )
                    .location(
                        JobManifestLocation::builder()
                            .object_arn(manifest_arn)
                            .e_tag(etag)
                            .build()
                            .context("the manifest location")?,
                    )
                    .build(),
            ),
        })
    }

    fn describe(&self) -> String {
        match &self.source {
            JobSource::Prefix(prefix) => format!("s3://{}/{prefix}", self.bucket),
            JobSource::Inventory { manifest_arn, .. } => format!("inventory {manifest_arn}"),
        }
    }

    /// What to tell the operator once the job exists.
    pub fn follow_up(&self, job_id: &str) -> anyhow::Result<String> {
        let account = self.account_id()?;
        Ok(format!(
            "created S3 Batch Operations job {job_id} over {}\n  \
             follow it:  aws s3control describe-job --account-id {account} --job-id {job_id}\n  \
             its report: s3://{}/{}/job-{job_id}/ (every task's outcome; failures also in `triage audit --status FAILED`)",
            self.describe(),
            self.report_bucket,
            self.report_prefix.trim_end_matches('/'),
        ))
    }
}

/// Creates the job; returns its id.
pub async fn create(client: &aws_sdk_s3control::Client, spec: &JobSpec) -> anyhow::Result<String> {
    let created = spec
        .request(client)?
        .send()
        .await
        .map_err(aws_sdk_s3control::Error::from)
        .context(
            "creating the S3 Batch Operations job (s3:CreateJob, and iam:PassRole on --role-arn)",
        )?;
    created
        .job_id
        .context("CreateJob answered without a job id")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client() -> aws_sdk_s3control::Client {
        aws_sdk_s3control::Client::from_conf(
            aws_sdk_s3control::Config::builder()
                .behavior_version(aws_sdk_s3control::config::BehaviorVersion::latest())
                .region(aws_sdk_s3control::config::Region::new("eu-west-1"))
                .build(),
        )
    }

    fn spec(source: JobSource) -> JobSpec {
        JobSpec {
            bucket: "my-uploads".into(),
            source,
            role_arn: "arn:aws:iam::123456789012:role/s3-triage-prod-batch-operations".into(),
            router_arn: "arn:aws:lambda:eu-west-1:123456789012:function:s3-triage-prod-router"
                .into(),
            report_bucket: "my-uploads".into(),
            report_prefix: "processed/batch-operations/".into(),
            requested_at: DateTime::from_timestamp(1_796_292_000, 0).expect("a time"),
        }
    }

    #[test]
    fn a_prefix_job_invokes_the_router_over_a_generated_manifest_and_reports_every_task() {
        let spec = spec(JobSource::Prefix("uploads/".into()));
        let input = spec
            .request(&client())
            .expect("a request")
            .as_input()
            .clone()
            .build()
            .expect("an input");
        assert_eq!(input.account_id(), Some("123456789012"));
        assert_eq!(input.role_arn(), Some(spec.role_arn.as_str()));
        assert_eq!(input.confirmation_required(), Some(false));
        let lambda = input
            .operation()
            .and_then(|operation| operation.lambda_invoke())
            .expect("a Lambda invoke");
        assert_eq!(lambda.function_arn(), Some(spec.router_arn.as_str()));
        assert_eq!(lambda.invocation_schema_version(), Some("2.0"));
        let Some(JobManifestGenerator::S3JobManifestGenerator(generator)) =
            input.manifest_generator()
        else {
            panic!("a generated manifest: {input:?}");
        };
        assert_eq!(generator.source_bucket(), "arn:aws:s3:::my-uploads");
        let prefixes = generator
            .filter()
            .and_then(|filter| filter.key_name_constraint())
            .map(|constraint| constraint.match_any_prefix().to_vec());
        assert_eq!(prefixes, Some(vec!["uploads/".to_owned()]));
        let report = input.report().expect("a report");
        assert_eq!(report.bucket(), Some("arn:aws:s3:::my-uploads"));
        assert_eq!(report.prefix(), Some("processed/batch-operations"));
        assert_eq!(report.report_scope(), Some(&JobReportScope::AllTasks));
        assert!(input.manifest().is_none());
    }

    #[test]
    fn a_job_over_a_watched_bucket_reports_to_the_stacks_bucket() {
        let spec = JobSpec {
            bucket: "team-media".into(),
            ..spec(JobSource::Prefix("uploads/".into()))
        };
        let input = spec
            .request(&client())
            .expect("a request")
            .as_input()
            .clone()
            .build()
            .expect("an input");
        let Some(JobManifestGenerator::S3JobManifestGenerator(generator)) =
            input.manifest_generator()
        else {
            panic!("a generated manifest: {input:?}");
        };
        assert_eq!(generator.source_bucket(), "arn:aws:s3:::team-media");
        let report = input.report().expect("a report");
        assert_eq!(report.bucket(), Some("arn:aws:s3:::my-uploads"));
        assert!(spec
            .follow_up("job-1")
            .expect("follow-up")
            .contains("its report: s3://my-uploads/processed/batch-operations/job-job-1/"));
    }

    #[test]
    fn an_inventory_job_reads_the_report_it_was_pointed_at_and_the_same_request_is_one_job() {
        let inventory = || {
            spec(JobSource::Inventory {
                manifest_arn: "arn:aws:s3:::inventory/my-uploads/daily/manifest.json".into(),
                etag: "e1".into(),
            })
        };
        let input = |spec: &JobSpec| {
            spec.request(&client())
                .expect("a request")
                .as_input()
                .clone()
                .build()
                .expect("an input")
        };
        let first = input(&inventory());
        let manifest = first.manifest().expect("a manifest");
        assert_eq!(
            manifest.spec().map(|spec| spec.format()),
            Some(&JobManifestFormat::S3InventoryReportCsv20161130)
        );
        let location = manifest.location().expect("a location");
        assert_eq!(
            location.object_arn(),
            "arn:aws:s3:::inventory/my-uploads/daily/manifest.json"
        );
        assert_eq!(location.e_tag(), "e1");
        assert_eq!(
            first.client_request_token(),
            input(&inventory()).client_request_token()
        );
        let mut other = inventory();
        other.requested_at += chrono::Duration::seconds(1);
        assert_ne!(
            first.client_request_token(),
            input(&other).client_request_token()
        );
    }

    #[test]
    fn a_role_arn_without_an_account_is_refused_with_where_to_find_one() {
        let mut spec = spec(JobSource::Prefix("uploads/".into()));
        spec.role_arn = "batch-operations".into();
        let err = spec.account_id().expect_err("refused").to_string();
        assert!(err.contains("batch_operations output"), "{err}");
    }
}
