//! Who may do what, proven on the policies terraform applied: the bucket policies of the uploads
//! and signatures buckets and the two topic policies, read from `terraform show -json` of the
//! local apply, evaluated against requests (who, action, object, its tags, the request's tags) by
//! a maintained IAM policy simulator (`evaluate.mjs`, @cloud-copilot/iam-simulate, installed by
//! scripts/ensure-policy-evaluator.sh). Every principal is given full rights in its own policy:
//! what is denied is denied by the resource policy, whatever the caller was granted.
//! (The emulator stores policies but ignores their conditions, so it cannot show this itself.)

use crate::consistency::terraform::{all_resources, values_of};
use compliance::tags::{VerdictTags, DEFAULT_PRESET};
use serde_json::{json, Value};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

/// A resource (or data source) of the applied state, by type and address fragment.
fn find<'a>(all: &'a [Value], kind: &str, address: &str) -> &'a Value {
    let found: Vec<&Value> = all
        .iter()
        .filter(|resource| {
            resource["type"] == kind
                && resource["address"]
                    .as_str()
                    .is_some_and(|a| a.contains(address))
        })
        .collect();
    match found.as_slice() {
        [one] => &one["values"],
        other => panic!("{} resources {kind} at {address} in the state", other.len()),
    }
}

fn policy(text: &Value) -> Value {
    serde_json::from_str(text.as_str().expect("policy JSON text")).expect("policy JSON")
}

/// Every request whose decision is not the expected one, one line each.
pub fn violations(root: &Path, state: &Value) -> Vec<String> {
    let all = all_resources(state);
    let role = |name_suffix: &str| -> String {
        let roles: Vec<&str> = values_of(&all, "aws_iam_role")
            .into_iter()
            .filter_map(|role| role["arn"].as_str())
            .filter(|arn| arn.ends_with(name_suffix))
            .collect();
        assert_eq!(roles.len(), 1, "roles ending {name_suffix}: {roles:?}");
        roles[0].to_owned()
    };
    let uploads_bucket = find(&all, "aws_s3_bucket", "module.ingest.aws_s3_bucket.uploads")
        ["bucket"]
        .as_str()
        .expect("bucket")
        .to_owned();
    let signatures_bucket = find(
        &all,
        "aws_s3_bucket",
        "module.ingest.aws_s3_bucket.signatures",
    )["bucket"]
        .as_str()
        .expect("bucket")
        .to_owned();
    let uploads_policy = policy(
        &find(
            &all,
            "aws_iam_policy_document",
            "module.ingest.data.aws_iam_policy_document.uploads",
        )["json"],
    );
    let signatures_policy = policy(
        &find(
            &all,
            "aws_iam_policy_document",
            "module.ingest.data.aws_iam_policy_document.signatures",
        )["json"],
    );
    let compliance_topic = find(&all, "aws_sns_topic_policy", "compliance_topic_policy");
    let notifications_topic = find(&all, "aws_sns_topic_policy", "notifications_topic_policy");
    let deployer = find(&all, "aws_iam_session_context", "deployer")["issuer_arn"]
        .as_str()
        .expect("deployer")
        .to_owned();
    let router = role("-router");
    let checker = role("-check-malware");
    let task = role("-large-file-task");
    let thumbnail = role("-thumbnail");
    let account = router.split(':').nth(4).expect("account").to_owned();
    let uploader = format!("arn:aws:iam::{account}:role/uploader");
    let outsider = format!("arn:aws:iam::{account}:role/some-app");

    let tags = VerdictTags::parse(DEFAULT_PRESET).expect("preset");
    let existing = format!("s3:ExistingObjectTag/{}", tags.key);
    let with_verdict =
        |verdict: compliance::checker::Severity| json!({ existing.clone(): tags.value(verdict) });
    use compliance::checker::Severity::{Clean, Flagged, Infected};
    let object = |key: &str| format!("arn:aws:s3:::{uploads_bucket}/{key}");
    let compliance_file = object("uploads/compliance/minutes.txt");
    let sets_verdict = json!({ "s3:RequestObjectTagKeys": [tags.key.clone()] });
    let sets_other_tags = json!({ "s3:RequestObjectTagKeys": ["project"] });

    // (what, who, action, resource, context, policy, expected)
    let cases: Vec<(&str, &str, &str, String, Value, &Value, &str)> = vec![
        (
            "the uploader reads an unscanned compliance object",
            &uploader,
            "s3:GetObject",
            compliance_file.clone(),
            json!({}),
            &uploads_policy,
            "ExplicitlyDenied",
        ),
        (
            "the uploader reads a compliance object judged clean",
            &uploader,
            "s3:GetObject",
            compliance_file.clone(),
            with_verdict(Clean),
            &uploads_policy,
            "Allowed",
        ),
        (
            "the uploader reads a compliance object judged flagged",
            &uploader,
            "s3:GetObject",
            compliance_file.clone(),
            with_verdict(Flagged),
            &uploads_policy,
            "ExplicitlyDenied",
        ),
        (
            "the uploader reads an old version of an unscanned compliance object",
            &uploader,
            "s3:GetObjectVersion",
            compliance_file.clone(),
            json!({}),
            &uploads_policy,
            "ExplicitlyDenied",
        ),
        (
            "the uploader reads an unscanned image (not a compliance prefix)",
            &uploader,
            "s3:GetObject",
            object("uploads/images/cat.jpg"),
            json!({}),
            &uploads_policy,
            "Allowed",
        ),
        (
            "the uploader reads an infected object outside the compliance prefixes",
            &uploader,
            "s3:GetObject",
            object("uploads/documents/big.bin"),
            with_verdict(Infected),
            &uploads_policy,
            "ExplicitlyDenied",
        ),
        (
            "a checker reads an unscanned compliance object",
            &checker,
            "s3:GetObject",
            compliance_file.clone(),
            json!({}),
            &uploads_policy,
            "Allowed",
        ),
        (
            "the large-file task reads an infected object (a retried quarantine copy)",
            &task,
            "s3:GetObject",
            object("uploads/documents/big.bin"),
            with_verdict(Infected),
            &uploads_policy,
            "Allowed",
        ),
        (
            "the uploader strips the verdict tag",
            &uploader,
            "s3:DeleteObjectTagging",
            compliance_file.clone(),
            with_verdict(Infected),
            &uploads_policy,
            "ExplicitlyDenied",
        ),
        (
            "the uploader strips the verdict tag of a version",
            &uploader,
            "s3:DeleteObjectVersionTagging",
            compliance_file.clone(),
            with_verdict(Infected),
            &uploads_policy,
            "ExplicitlyDenied",
        ),
        (
            "the uploader rewrites the tags of an object with a verdict",
            &uploader,
            "s3:PutObjectTagging",
            compliance_file.clone(),
            merged(with_verdict(Infected), &sets_other_tags),
            &uploads_policy,
            "ExplicitlyDenied",
        ),
        (
            "the uploader rewrites the verdict to clean",
            &uploader,
            "s3:PutObjectTagging",
            compliance_file.clone(),
            merged(with_verdict(Infected), &sets_verdict),
            &uploads_policy,
            "ExplicitlyDenied",
        ),
        (
            "the uploader sets a verdict on an unscanned object",
            &uploader,
            "s3:PutObjectTagging",
            compliance_file.clone(),
            sets_verdict.clone(),
            &uploads_policy,
            "ExplicitlyDenied",
        ),
        (
            "the uploader uploads with a verdict tag",
            &uploader,
            "s3:PutObject",
            compliance_file.clone(),
            sets_verdict.clone(),
            &uploads_policy,
            "ExplicitlyDenied",
        ),
        (
            "the uploader tags an unscanned object with tags of its own",
            &uploader,
            "s3:PutObjectTagging",
            compliance_file.clone(),
            sets_other_tags.clone(),
            &uploads_policy,
            "Allowed",
        ),
        (
            "the uploader uploads under uploads/ with tags of its own",
            &uploader,
            "s3:PutObject",
            compliance_file.clone(),
            sets_other_tags.clone(),
            &uploads_policy,
            "Allowed",
        ),
        (
            "a checker writes the verdict tag",
            &checker,
            "s3:PutObjectTagging",
            compliance_file.clone(),
            merged(with_verdict(Clean), &sets_verdict),
            &uploads_policy,
            "Allowed",
        ),
        (
            "the uploader writes under processed/",
            &uploader,
            "s3:PutObject",
            object("processed/thumbnails/uploads/images/cat.jpg/256.jpg"),
            json!({}),
            &uploads_policy,
            "ExplicitlyDenied",
        ),
        (
            "the uploader forges an e-mail attachment (the router would route it)",
            &uploader,
            "s3:PutObject",
            object("processed/attachments/uploads/documents/q3.eml/v1/1-report.pdf"),
            json!({}),
            &uploads_policy,
            "ExplicitlyDenied",
        ),
        (
            "the uploader writes outside uploads/ (where signatures once were)",
            &uploader,
            "s3:PutObject",
            object("config/signatures/evil.ndb"),
            json!({}),
            &uploads_policy,
            "ExplicitlyDenied",
        ),
        (
            "the thumbnail worker writes its output",
            &thumbnail,
            "s3:PutObject",
            object("processed/thumbnails/uploads/images/cat.jpg/256.jpg"),
            json!({}),
            &uploads_policy,
            "Allowed",
        ),
        (
            "the uploader writes a signature file",
            &uploader,
            "s3:PutObject",
            format!("arn:aws:s3:::{signatures_bucket}/evil.ndb"),
            json!({}),
            &signatures_policy,
            "ExplicitlyDenied",
        ),
        (
            "the uploader deletes a signature version",
            &uploader,
            "s3:DeleteObjectVersion",
            format!("arn:aws:s3:::{signatures_bucket}/s3-triage-test.ndb"),
            json!({}),
            &signatures_policy,
            "ExplicitlyDenied",
        ),
        (
            "a checker writes a signature file",
            &checker,
            "s3:PutObject",
            format!("arn:aws:s3:::{signatures_bucket}/evil.ndb"),
            json!({}),
            &signatures_policy,
            "ExplicitlyDenied",
        ),
        (
            "the deployer updates a signature file",
            &deployer,
            "s3:PutObject",
            format!("arn:aws:s3:::{signatures_bucket}/s3-triage-test.ndb"),
            json!({}),
            &signatures_policy,
            "Allowed",
        ),
    ];
    let compliance_policy = policy(&compliance_topic["policy"]);
    let notifications_policy = policy(&notifications_topic["policy"]);
    let compliance_arn = compliance_topic["arn"].as_str().expect("arn").to_owned();
    let notifications_arn = notifications_topic["arn"].as_str().expect("arn").to_owned();
    let topic_cases: Vec<(&str, &str, &str, String, Value, &Value, &str)> = vec![
        (
            "a principal outside the pipeline publishes a dispatch",
            &outsider,
            "sns:Publish",
            compliance_arn.clone(),
            json!({}),
            &compliance_policy,
            "ExplicitlyDenied",
        ),
        (
            "a checker publishes a dispatch",
            &checker,
            "sns:Publish",
            compliance_arn.clone(),
            json!({}),
            &compliance_policy,
            "ExplicitlyDenied",
        ),
        (
            "the router publishes a dispatch",
            &router,
            "sns:Publish",
            compliance_arn,
            json!({}),
            &compliance_policy,
            "Allowed",
        ),
        (
            "a principal outside the pipeline publishes a notification",
            &outsider,
            "sns:Publish",
            notifications_arn.clone(),
            json!({}),
            &notifications_policy,
            "ExplicitlyDenied",
        ),
        (
            "the large-file task publishes a notification",
            &task,
            "sns:Publish",
            notifications_arn.clone(),
            json!({}),
            &notifications_policy,
            "Allowed",
        ),
        (
            "a principal of the account subscribes to notifications",
            &outsider,
            "sns:Subscribe",
            notifications_arn,
            json!({}),
            &notifications_policy,
            "Allowed",
        ),
    ];
    let mut cases: Vec<Value> = cases
        .into_iter()
        .chain(topic_cases)
        .map(
            |(name, principal, action, resource, context, resource_policy, expect)| {
                json!({
                    "name": name, "principal": principal, "action": action, "resource": resource,
                    "account": account, "context": context, "resourcePolicy": resource_policy,
                    "expect": expect,
                })
            },
        )
        .collect();

    // What the role Batch Operations jobs run as may do, by its own policy: invoke the router,
    // write reports, and nothing it could turn against the pipeline.
    let batch_operations = role("-batch-operations");
    let batch_operations_policy = policy(
        &find(
            &all,
            "aws_iam_policy_document",
            "module.batch_operations.data.aws_iam_policy_document.this",
        )["json"],
    );
    let function_arn = |module: &str| {
        find(
            &all,
            "aws_lambda_function",
            &format!("module.{module}.module.function.aws_lambda_function"),
        )["arn"]
            .as_str()
            .expect("function arn")
            .to_owned()
    };
    let no_resource_policy = Value::Null;
    let batch_operations_cases: Vec<(&str, &str, String, &Value, &str)> = vec![
        (
            "Batch Operations invokes the router",
            "lambda:InvokeFunction",
            function_arn("router"),
            &no_resource_policy,
            "Allowed",
        ),
        (
            "Batch Operations invokes the thumbnail worker past the router",
            "lambda:InvokeFunction",
            function_arn("thumbnail"),
            &no_resource_policy,
            "ImplicitlyDenied",
        ),
        (
            "Batch Operations writes a completion report",
            "s3:PutObject",
            object("processed/batch-operations/job-1/report.csv"),
            &uploads_policy,
            "Allowed",
        ),
        (
            "Batch Operations writes an output of the pipeline",
            "s3:PutObject",
            object("processed/thumbnails/uploads/images/cat.jpg/256.jpg"),
            &uploads_policy,
            "ImplicitlyDenied",
        ),
        (
            "Batch Operations uploads (an upload's event would be routed)",
            "s3:PutObject",
            object("uploads/images/cat.jpg"),
            &uploads_policy,
            "ImplicitlyDenied",
        ),
        (
            "Batch Operations reads an unscanned object",
            "s3:GetObject",
            object("uploads/images/cat.jpg"),
            &uploads_policy,
            "ImplicitlyDenied",
        ),
    ];
    cases.extend(batch_operations_cases.into_iter().map(
        |(name, action, resource, resource_policy, expect)| {
            json!({
                "name": name, "principal": batch_operations, "action": action,
                "resource": resource, "account": account, "context": {},
                "resourcePolicy": resource_policy, "identityPolicy": batch_operations_policy,
                "expect": expect,
            })
        },
    ));
    // The extractor writes its text and an e-mail's attachments (which re-enter the pipeline),
    // by its own policy, and no other stage's outputs.
    let extractor = role("-extractor");
    let extractor_policy = policy(
        &find(
            &all,
            "aws_iam_policy_document",
            "module.extractor.module.function.data.aws_iam_policy_document.this",
        )["json"],
    );
    let extractor_cases = [
        (
            "the extractor writes an e-mail's attachment",
            object("processed/attachments/uploads/documents/q3.eml/v1/1-report.pdf"),
            "Allowed",
        ),
        (
            "the extractor writes a document's text",
            object("processed/text/uploads/documents/q3.eml/v1/text.txt"),
            "Allowed",
        ),
        (
            "the extractor writes a thumbnail",
            object("processed/thumbnails/uploads/images/cat.jpg/256.jpg"),
            "ImplicitlyDenied",
        ),
        (
            "the extractor uploads an attachment as an upload",
            object("uploads/documents/report.pdf"),
            "ImplicitlyDenied",
        ),
    ];
    cases.extend(extractor_cases.into_iter().map(|(name, resource, expect)| {
        json!({
            "name": name, "principal": extractor, "action": "s3:PutObject",
            "resource": resource, "account": account, "context": {},
            "resourcePolicy": uploads_policy, "identityPolicy": extractor_policy,
            "expect": expect,
        })
    }));
    cases.extend(large_fleet_cases(&all, &account, &router, &task));
    cases.extend(ingest_queue_cases(&all, &uploads_bucket, &account));
    cases.extend(subscriber_queue_cases(&all, &account));
    cases.extend(existing_bucket_cases(
        &all,
        &account,
        &uploads_bucket,
        [&uploader, &thumbnail],
        &tags,
    ));
    let decisions = evaluate(root, &cases);
    cases
        .iter()
        .zip(decisions)
        .filter(|(case, decision)| decision["decision"] != case["expect"])
        .map(|(case, decision)| {
            format!(
                "{}: expected {}, got {} {}",
                case["name"].as_str().unwrap_or_default(),
                case["expect"],
                decision["decision"],
                decision["errors"]
            )
        })
        .collect()
}

/// The large tier by the router's and the task's own policies: the router sends to the
/// large-file queue and starts, counts and stops tasks of its family in its cluster only; the
/// task takes messages from the queue and cannot put any in it.
fn large_fleet_cases(all: &[Value], account: &str, router: &str, task: &str) -> Vec<Value> {
    let identity = |address: &str| policy(&find(all, "aws_iam_policy_document", address)["json"]);
    let router_policy = identity("module.router.module.function.data.aws_iam_policy_document.this");
    let task_policy = identity("module.large_file.data.aws_iam_policy_document.task");
    let cluster = find(all, "aws_ecs_cluster", "module.tiers.aws_ecs_cluster.large")["arn"]
        .as_str()
        .expect("cluster arn")
        .to_owned();
    let family = find(
        all,
        "aws_ecs_task_definition",
        "module.large_file.aws_ecs_task_definition.task",
    )["family"]
        .as_str()
        .expect("family")
        .to_owned();
    let queue = find(
        all,
        "aws_sqs_queue",
        "module.tiers.module.large_queue.aws_sqs_queue.this",
    )["arn"]
        .as_str()
        .expect("queue arn")
        .to_owned();
    let region = cluster.split(':').nth(3).expect("region");
    let prefix = format!("arn:aws:ecs:{region}:{account}");
    let other_cluster = format!("{prefix}:cluster/someone-elses");
    let in_cluster = |cluster: &str| json!({ "ecs:cluster": cluster });
    let cluster_name = cluster.rsplit('/').next().unwrap_or_default().to_owned();
    let cases: Vec<(&str, &str, &Value, &str, String, Value, &str)> = vec![
        (
            "the router starts a task of its family in its cluster",
            router,
            &router_policy,
            "ecs:RunTask",
            format!("{prefix}:task-definition/{family}:7"),
            in_cluster(&cluster),
            "Allowed",
        ),
        (
            "the router starts another family's task",
            router,
            &router_policy,
            "ecs:RunTask",
            format!("{prefix}:task-definition/someone-elses:1"),
            in_cluster(&cluster),
            "ImplicitlyDenied",
        ),
        (
            "the router starts its family's task in another cluster",
            router,
            &router_policy,
            "ecs:RunTask",
            format!("{prefix}:task-definition/{family}:7"),
            in_cluster(&other_cluster),
            "ImplicitlyDenied",
        ),
        (
            "the router counts the tasks of its cluster",
            router,
            &router_policy,
            "ecs:ListTasks",
            format!("{prefix}:container-instance/{cluster_name}/*"),
            in_cluster(&cluster),
            "Allowed",
        ),
        (
            "the router counts another cluster's tasks",
            router,
            &router_policy,
            "ecs:ListTasks",
            format!("{prefix}:container-instance/someone-elses/*"),
            in_cluster(&other_cluster),
            "ImplicitlyDenied",
        ),
        (
            "the router stops a surplus task in its cluster",
            router,
            &router_policy,
            "ecs:StopTask",
            format!("{prefix}:task/{cluster_name}/0123"),
            in_cluster(&cluster),
            "Allowed",
        ),
        (
            "the router stops a task in another cluster",
            router,
            &router_policy,
            "ecs:StopTask",
            format!("{prefix}:task/someone-elses/0123"),
            in_cluster(&other_cluster),
            "ImplicitlyDenied",
        ),
        (
            "the router sends a large dispatch",
            router,
            &router_policy,
            "sqs:SendMessage",
            queue.clone(),
            json!({}),
            "Allowed",
        ),
        (
            "the router takes a large dispatch",
            router,
            &router_policy,
            "sqs:ReceiveMessage",
            queue.clone(),
            json!({}),
            "ImplicitlyDenied",
        ),
        (
            "the task takes a large dispatch",
            task,
            &task_policy,
            "sqs:ReceiveMessage",
            queue.clone(),
            json!({}),
            "Allowed",
        ),
        (
            "the task forges a large dispatch",
            task,
            &task_policy,
            "sqs:SendMessage",
            queue,
            json!({}),
            "ImplicitlyDenied",
        ),
        (
            "the task starts another task",
            task,
            &task_policy,
            "ecs:RunTask",
            format!("{prefix}:task-definition/{family}:7"),
            in_cluster(&cluster),
            "ImplicitlyDenied",
        ),
    ];
    cases
        .into_iter()
        .map(
            |(name, principal, identity_policy, action, resource, context, expect)| {
                json!({
                    "name": name, "principal": principal, "action": action, "resource": resource,
                    "account": account, "context": context, "resourcePolicy": Value::Null,
                    "identityPolicy": identity_policy, "expect": expect,
                })
            },
        )
        .collect()
}

/// The ingest queue's ARN and the policy saying who may send to it.
fn ingest_queue(all: &[Value]) -> (String, Value) {
    let queue = find(
        all,
        "aws_sqs_queue",
        "module.ingest.module.queue.aws_sqs_queue.this",
    )["arn"]
        .as_str()
        .expect("queue arn")
        .to_owned();
    let policy = policy(
        &find(
            all,
            "aws_sqs_queue_policy",
            "module.ingest.aws_sqs_queue_policy.ingest",
        )["policy"],
    );
    (queue, policy)
}

/// Who may put events on the ingest queue: the one sender the applied event path names (S3
/// for the uploads bucket, or EventBridge for its rule), and nobody on another's behalf.
fn ingest_queue_cases(all: &[Value], uploads_bucket: &str, account: &str) -> Vec<Value> {
    let (queue, queue_policy) = ingest_queue(all);
    let rules: Vec<&Value> = values_of(all, "aws_cloudwatch_event_rule")
        .into_iter()
        .filter(|rule| {
            rule["name"]
                .as_str()
                .is_some_and(|name| name.ends_with("-uploads"))
        })
        .collect();
    let bucket_arn = format!("arn:aws:s3:::{uploads_bucket}");
    let (sender, source, other_sender, other_source) = match rules.as_slice() {
        [] => (
            "s3.amazonaws.com",
            bucket_arn,
            "events.amazonaws.com",
            format!("arn:aws:events:us-east-1:{account}:rule/uploads"),
        ),
        [rule] => (
            "events.amazonaws.com",
            rule["arn"].as_str().expect("rule arn").to_owned(),
            "s3.amazonaws.com",
            bucket_arn,
        ),
        more => panic!("{} upload rules", more.len()),
    };
    let from = |source: &str| json!({ "aws:SourceArn": source, "aws:SourceAccount": account });
    [
        (
            "the event path's sender announces an upload",
            sender,
            from(&source),
            "Allowed",
        ),
        (
            "the event path's sender announces for another source",
            sender,
            from(&format!("{source}-elsewhere")),
            "ImplicitlyDenied",
        ),
        (
            "the other path's sender announces an upload",
            other_sender,
            from(&other_source),
            "ImplicitlyDenied",
        ),
    ]
    .into_iter()
    .map(|(name, principal, context, expect)| {
        json!({
            "name": name, "principal": principal, "action": "sqs:SendMessage",
            "resource": queue, "account": account, "context": context,
            "resourcePolicy": queue_policy, "expect": expect,
        })
    })
    .collect()
}

/// Each declared subscriber's queues (the queue the stack created for it, and the DLQ of every
/// subscription) let SNS deliver for the notifications topic alone: not for the compliance
/// topic, not without a source.
fn subscriber_queue_cases(all: &[Value], account: &str) -> Vec<Value> {
    let topic = |address: &str| {
        find(all, "aws_sns_topic", address)["arn"]
            .as_str()
            .expect("topic arn")
            .to_owned()
    };
    let notifications = topic("module.audit.aws_sns_topic.notifications");
    let compliance = topic("module.tiers.aws_sns_topic.compliance");
    let queues = values_of(all, "aws_sqs_queue");
    let policies: Vec<&Value> = all
        .iter()
        .filter(|resource| {
            resource["type"] == "aws_sqs_queue_policy"
                && resource["address"]
                    .as_str()
                    .is_some_and(|a| a.contains("module.subscribers."))
        })
        .collect();
    // envs/local declares two queues the stack creates and an address: 2 queues + 3 DLQs.
    assert_eq!(policies.len(), 5, "subscriber queue policies: {policies:?}");
    let mut cases = Vec::new();
    for resource in policies {
        let url = &resource["values"]["queue_url"];
        let queue = queues
            .iter()
            .find(|queue| &queue["url"] == url)
            .and_then(|queue| queue["arn"].as_str())
            .expect("the policy's queue")
            .to_owned();
        let queue_policy = policy(&resource["values"]["policy"]);
        let from = |source: &str| json!({ "aws:SourceArn": source, "aws:SourceAccount": account });
        for (name, principal, context, expect) in [
            (
                "the notifications topic delivers",
                "sns.amazonaws.com",
                from(&notifications),
                "Allowed",
            ),
            (
                "the compliance topic delivers",
                "sns.amazonaws.com",
                from(&compliance),
                "ImplicitlyDenied",
            ),
            (
                "SNS delivers with no source",
                "sns.amazonaws.com",
                json!({}),
                "ImplicitlyDenied",
            ),
        ] {
            cases.push(json!({
                "name": format!("{queue}: {name}"), "principal": principal,
                "action": "sqs:SendMessage", "resource": queue, "account": account,
                "context": context, "resourcePolicy": queue_policy, "expect": expect,
            }));
        }
    }
    cases
}

/// A bucket the stack watches but did not create: its gate (the policy its owner merges in)
/// keeps verdicts and outputs the pipeline's while the bucket keeps its other uses; the
/// thumbnail worker's own role reaches into it for exactly its reads and its outputs; its
/// EventBridge rule, and no other, may put its events on the ingest queue.
fn existing_bucket_cases(
    all: &[Value],
    account: &str,
    uploads_bucket: &str,
    [uploader, thumbnail]: [&str; 2],
    tags: &VerdictTags,
) -> Vec<Value> {
    let gates: Vec<(String, Value)> = all
        .iter()
        .filter(|resource| {
            resource["type"] == "aws_iam_policy_document"
                && resource["address"]
                    .as_str()
                    .is_some_and(|a| a.contains("module.bucket_gate["))
        })
        .map(|resource| {
            let address = resource["address"].as_str().unwrap_or_default();
            let bucket = address
                .split("[\"")
                .nth(1)
                .and_then(|rest| rest.split('"').next())
                .expect("the bucket in the address")
                .to_owned();
            (bucket, policy(&resource["values"]["json"]))
        })
        .filter(|(bucket, _)| bucket != uploads_bucket)
        .collect();
    let thumbnail_policy = policy(
        &find(
            all,
            "aws_iam_policy_document",
            "module.thumbnail.module.function.data.aws_iam_policy_document.this",
        )["json"],
    );
    let (queue, queue_policy) = ingest_queue(all);
    let infected = json!({ format!("s3:ExistingObjectTag/{}", tags.key): tags.value(compliance::checker::Severity::Infected) });
    let mut cases = Vec::new();
    for (bucket, gate) in &gates {
        let object = |key: &str| format!("arn:aws:s3:::{bucket}/{key}");
        let sets_verdict = json!({ "s3:RequestObjectTagKeys": [tags.key.clone()] });
        let by_gate = [
            (
                "an uploader forges a verdict tag in a watched bucket",
                uploader,
                "s3:PutObject",
                object("uploads/a.txt"),
                sets_verdict,
                "ExplicitlyDenied",
            ),
            (
                "an uploader writes under a watched bucket's reserved prefix",
                uploader,
                "s3:PutObject",
                object("processed/thumbnails/uploads/a.png/256.jpg"),
                json!({}),
                "ExplicitlyDenied",
            ),
            (
                "its owner writes elsewhere in a watched bucket",
                uploader,
                "s3:PutObject",
                object("reports/q3.csv"),
                json!({}),
                "Allowed",
            ),
            (
                "an uploader reads an infected object of a watched bucket",
                uploader,
                "s3:GetObject",
                object("uploads/a.txt"),
                infected.clone(),
                "ExplicitlyDenied",
            ),
            (
                "the thumbnail worker writes its output in a watched bucket",
                thumbnail,
                "s3:PutObject",
                object("processed/thumbnails/uploads/a.png/256.jpg"),
                json!({}),
                "Allowed",
            ),
        ];
        cases.extend(by_gate.into_iter().map(|(name, principal, action, resource, context, expect)| {
            json!({
                "name": format!("{name} ({bucket})"), "principal": principal, "action": action,
                "resource": resource, "account": account, "context": context,
                "resourcePolicy": gate, "expect": expect,
            })
        }));
        let by_role = [
            (
                "the thumbnail worker reads a watched bucket's upload",
                "s3:GetObjectVersion",
                object("uploads/a.png"),
                "Allowed",
            ),
            (
                "the thumbnail worker writes a watched bucket's thumbnail",
                "s3:PutObject",
                object("processed/thumbnails/uploads/a.png/256.jpg"),
                "Allowed",
            ),
            (
                "the thumbnail worker writes elsewhere in a watched bucket",
                "s3:PutObject",
                object("uploads/a.png"),
                "ImplicitlyDenied",
            ),
        ];
        // A bucket encrypted with a key of its own: the worker decrypts what it reads and
        // encrypts the thumbnails it keeps there with that key, and no other.
        let own_key = thumbnail_policy["Statement"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|statement| statement["Sid"] == "DecryptSources")
            .and_then(|statement| statement["Resource"].as_str().map(str::to_owned));
        let keyed: Vec<(&str, &str, String, &str)> = match &own_key {
            None => Vec::new(),
            Some(key) => vec![
                (
                    "the thumbnail worker decrypts a watched bucket's upload",
                    "kms:Decrypt",
                    key.clone(),
                    "Allowed",
                ),
                (
                    "the thumbnail worker encrypts a thumbnail kept in a watched bucket",
                    "kms:GenerateDataKey",
                    key.clone(),
                    "Allowed",
                ),
                (
                    "the thumbnail worker decrypts with a key no watched bucket names",
                    "kms:Decrypt",
                    format!("{key}-other"),
                    "ImplicitlyDenied",
                ),
            ],
        };
        // A key is used only as its key policy allows: the default one leaves it to the
        // account's IAM policies, which is what the role's statements are checked under.
        let default_key_policy = json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow", "Principal": { "AWS": format!("arn:aws:iam::{account}:root") },
                "Action": "kms:*", "Resource": "*",
            }],
        });
        cases.extend(by_role.into_iter().chain(keyed).map(|(name, action, resource, expect)| {
            let resource_policy = if action.starts_with("kms:") {
                default_key_policy.clone()
            } else {
                Value::Null
            };
            json!({
                "name": format!("{name} ({bucket})"), "principal": thumbnail, "action": action,
                "resource": resource, "account": account, "context": {},
                "resourcePolicy": resource_policy, "identityPolicy": thumbnail_policy,
                "expect": expect,
            })
        }));
        let rule = values_of(all, "aws_cloudwatch_event_rule")
            .into_iter()
            .find(|rule| {
                rule["event_pattern"]
                    .as_str()
                    .is_some_and(|pattern| pattern.contains(&format!("\"{bucket}\"")))
            })
            .and_then(|rule| rule["arn"].as_str())
            .unwrap_or_else(|| panic!("no EventBridge rule for {bucket}"))
            .to_owned();
        for (name, source, expect) in [
            (
                "a watched bucket's rule announces an upload",
                rule.clone(),
                "Allowed",
            ),
            (
                "another rule announces for a watched bucket",
                format!("{rule}-elsewhere"),
                "ImplicitlyDenied",
            ),
        ] {
            cases.push(json!({
                "name": format!("{name} ({bucket})"), "principal": "events.amazonaws.com",
                "action": "sqs:SendMessage", "resource": queue, "account": account,
                "context": { "aws:SourceArn": source, "aws:SourceAccount": account },
                "resourcePolicy": queue_policy, "expect": expect,
            }));
        }
    }
    cases
}

fn merged(mut base: Value, more: &Value) -> Value {
    if let (Some(base), Some(more)) = (base.as_object_mut(), more.as_object()) {
        base.extend(more.clone());
    }
    base
}

/// Runs the simulator over `cases`; one decision per case, in order.
fn evaluate(root: &Path, cases: &[Value]) -> Vec<Value> {
    let installed = Command::new(root.join("scripts/ensure-policy-evaluator.sh"))
        .stderr(Stdio::inherit())
        .output()
        .expect("scripts/ensure-policy-evaluator.sh runs");
    assert!(
        installed.status.success(),
        "installing the policy evaluator failed"
    );
    let modules = String::from_utf8_lossy(&installed.stdout).trim().to_owned();
    let mut node = Command::new("node")
        .arg(root.join("cli/tests/policies/evaluate.mjs"))
        .arg(&modules)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("node runs (Node.js 18+)");
    node.stdin
        .take()
        .expect("stdin")
        .write_all(json!({ "cases": cases }).to_string().as_bytes())
        .expect("cases written");
    let output = node.wait_with_output().expect("evaluator finishes");
    assert!(output.status.success(), "evaluate.mjs failed");
    let decisions: Vec<Value> = serde_json::from_slice(&output.stdout).expect("decisions JSON");
    assert_eq!(decisions.len(), cases.len());
    decisions
}
