//! The extractor against the emulator's S3, DynamoDB and SNS, through the real SDK clients,
//! with this package's binary as the parser child.

mod common;

use aws_lambda_events::sqs::SqsEvent;
use extractor::config::ExtractorConfig;
use extractor::handler::Extractor;
use object_events::Tier;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;
use testkit::pdf::Built;
use testkit::stage::WorkerStage;
use worker_common::deadline::Invocation;
use worker_common::outputs::{Output, Outputs};
use worker_common::s3::S3Store;

struct Fixture {
    stage: WorkerStage,
    extractor: Extractor,
}

async fn fixture() -> Fixture {
    let stage = WorkerStage::new(extractor::handler::STAGE).await;
    let extractor = Extractor {
        store: S3Store {
            client: stage.s3.clone(),
        },
        recorder: stage.recorder.clone(),
        config: ExtractorConfig {
            recorder: stage.recorder_settings(),
            outputs: Outputs::in_place("processed/"),
            max_bytes: 10 << 20,
            parse: common::limits(),
            concurrency: 3,
        },
        parser: PathBuf::from(env!("CARGO_BIN_EXE_extractor")),
    };
    Fixture { stage, extractor }
}

impl Fixture {
    /// Uploads `bytes`; returns the router's dispatch for it, as an SQS message body.
    async fn upload(&self, key: &str, bytes: Vec<u8>) -> String {
        let dispatch = self.stage.upload(key, bytes, Tier::Document).await;
        serde_json::to_string(&dispatch).expect("JSON")
    }
}

fn invocation() -> Invocation {
    Invocation::lasting(Duration::from_secs(180))
}

fn batch(bodies: &[(&str, &str)]) -> SqsEvent {
    let records: Vec<_> = bodies
        .iter()
        .map(|(id, body)| json!({ "messageId": id, "body": body, "eventSource": "aws:sqs" }))
        .collect();
    serde_json::from_value(json!({ "Records": records })).expect("an SQS event")
}

#[tokio::test]
async fn a_batch_is_judged_document_by_document_and_redelivery_adds_nothing() {
    let fixture = fixture().await;
    let pdf = fixture
        .upload(
            "uploads/documents/lorem ipsum.pdf",
            testkit::pdf::pdf("Lorem ipsum dolor sit amet, consectetur adipiscing elit."),
        )
        .await;
    let notes = fixture
        .upload(
            "uploads/documents/notes.md",
            b"# Notes\n\nShip it.\n".to_vec(),
        )
        .await;
    let broken = fixture
        .upload(
            "uploads/documents/broken.pdf",
            b"%PDF-1.4\nnothing else\n".to_vec(),
        )
        .await;
    let messages = [
        ("m-pdf", pdf.as_str()),
        ("m-notes", notes.as_str()),
        ("m-broken", broken.as_str()),
        ("m-poison", "this is not a dispatch"),
    ];

    let response = fixture
        .extractor
        .handle_batch(batch(&messages), invocation())
        .await;
    let failed: Vec<String> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect();
    assert_eq!(
        failed,
        ["m-poison"],
        "only the unreadable message is retried"
    );

    let pdf_records = fixture
        .stage
        .records("uploads/documents/lorem ipsum.pdf")
        .await;
    assert_eq!(pdf_records.len(), 1);
    let record = &pdf_records[0];
    assert_eq!(record.status, "SUCCEEDED");
    let details = record.details.as_ref().expect("details");
    assert_eq!(details["pages"], 1);
    assert_eq!(details["kind"], "pdf");
    let text = fixture
        .stage
        .s3
        .get_object()
        .bucket(&fixture.stage.bucket)
        .key(&record.outputs[0])
        .send()
        .await
        .expect("text output")
        .body
        .collect()
        .await
        .expect("body")
        .into_bytes();
    assert!(String::from_utf8_lossy(&text).contains("Lorem ipsum dolor sit amet"));

    let notes_records = fixture.stage.records("uploads/documents/notes.md").await;
    let notes_details = notes_records[0].details.as_ref().expect("details");
    assert_eq!(
        (
            notes_details["lines"].as_u64(),
            notes_details["words"].as_u64()
        ),
        (Some(3), Some(4))
    );

    let broken_records = fixture.stage.records("uploads/documents/broken.pdf").await;
    assert_eq!(broken_records[0].status, "FAILED");
    let reason = broken_records[0].reason.clone().unwrap_or_default();
    assert!(reason.starts_with("not a readable PDF"), "{reason}");

    // SQS delivers at least once: the same batch again writes nothing new.
    let again = fixture
        .extractor
        .handle_batch(batch(&messages[..3]), invocation())
        .await;
    assert!(again.batch_item_failures.is_empty());
    for key in [
        "uploads/documents/lorem ipsum.pdf",
        "uploads/documents/notes.md",
        "uploads/documents/broken.pdf",
    ] {
        assert_eq!(fixture.stage.records(key).await.len(), 1, "{key}");
    }
}

#[tokio::test]
async fn ten_documents_with_three_hostile_ones_give_seven_successes_and_three_failures() {
    let fixture = fixture().await;
    let mut messages = Vec::new();
    for (n, (name, bytes)) in testkit::pdf::ten_documents().into_iter().enumerate() {
        let key = format!("uploads/documents/{name}.pdf");
        messages.push((
            format!("m{n}"),
            key.clone(),
            fixture.upload(&key, bytes).await,
        ));
    }
    let bodies: Vec<(&str, &str)> = messages
        .iter()
        .map(|(id, _, body)| (id.as_str(), body.as_str()))
        .collect();
    let response = fixture
        .extractor
        .handle_batch(batch(&bodies), invocation())
        .await;
    assert!(
        response.batch_item_failures.is_empty(),
        "hostile documents are recorded, not retried"
    );
    let mut failed = Vec::new();
    let mut succeeded = 0;
    for (_, key, _) in &messages {
        let records = fixture.stage.records(key).await;
        let [record] = records.as_slice() else {
            panic!("{key}: {records:?}");
        };
        match record.status.as_str() {
            "SUCCEEDED" => succeeded += 1,
            _ => failed.push(
                key.trim_start_matches("uploads/documents/")
                    .trim_end_matches(".pdf"),
            ),
        }
    }
    assert_eq!(succeeded, 7);
    assert_eq!(failed, ["truncated", "recursion bomb", "huge xref"]);
}

#[tokio::test]
async fn ten_documents_over_their_parse_deadline_are_each_recorded_failed_in_one_invocation() {
    let mut fixture = fixture().await;
    fixture.extractor.config.parse.timeout = Duration::from_millis(1);
    let slow = Built::numbered_pages(400).save();
    let mut bodies = Vec::new();
    for n in 0..10 {
        let key = format!("uploads/documents/slow {n}.pdf");
        bodies.push((format!("m{n}"), fixture.upload(&key, slow.clone()).await));
    }
    let messages: Vec<(&str, &str)> = bodies
        .iter()
        .map(|(id, body)| (id.as_str(), body.as_str()))
        .collect();
    let response = fixture
        .extractor
        .handle_batch(batch(&messages), invocation())
        .await;
    assert!(response.batch_item_failures.is_empty());
    for n in 0..10 {
        let records = fixture
            .stage
            .records(&format!("uploads/documents/slow {n}.pdf"))
            .await;
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].status.as_str(), "FAILED");
        let reason = records[0].reason.clone().unwrap_or_default();
        assert!(
            reason.starts_with("deadline: parsing took longer than"),
            "{reason}"
        );
    }
    assert_eq!(fixture.stage.notified_statuses().await, ["FAILED"; 10]);
}

#[tokio::test]
async fn a_megabyte_title_is_trimmed_with_a_marker_and_the_record_written_once() {
    let fixture = fixture().await;
    let title = "T".repeat(1 << 20);
    let document = Built::pages(&["the body text"])
        .info(&title, "an author")
        .save();
    let key = "uploads/documents/long title.pdf";
    let body = fixture.upload(key, document).await;
    let response = fixture
        .extractor
        .handle_batch(batch(&[("m1", &body)]), invocation())
        .await;
    assert!(response.batch_item_failures.is_empty());
    let records = fixture.stage.records(key).await;
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].status.as_str(), "SUCCEEDED");
    let details = records[0].details.clone().expect("details");
    let kept = details["info"]["title"].as_str().expect("a title");
    assert!(kept.starts_with("TTTT"), "{kept:.20}");
    assert!(kept.ends_with("…[trimmed: 1048576 bytes]"), "{kept:.20}");
    assert_eq!(details["info"]["author"], "an author");
    assert_eq!(fixture.stage.notified_statuses().await, ["SUCCEEDED"]);
}

/// One file of each Office and OpenDocument format and their hostile variants through the
/// handler: each readable one SUCCEEDED with its text and metadata written, each hostile one
/// FAILED with its reason, in one batch.
#[tokio::test]
async fn documents_of_every_parsed_format_are_extracted_and_hostile_ones_fail_with_reasons() {
    use testkit::documents;
    use testkit::office::{self as generate, PROPERTIES};
    let fixture = fixture().await;
    let slides: &[(&str, &str)] = &[("Roadmap", "Ship in May"), ("Thanks", "")];
    let sheets: &[testkit::office::Sheet] = &[("Sales", &[&["Region", "Units"], &["North", "12"]])];
    let paragraphs = ["Quarterly revenue rose.", "Costs\tfell"];
    let readable: Vec<(&str, Vec<u8>, &str, &str)> = vec![
        (
            "report.docx",
            generate::docx(&paragraphs, &PROPERTIES),
            "Quarterly revenue rose.\nCosts\tfell\n",
            "pages",
        ),
        (
            "deck.pptx",
            generate::pptx(slides, &PROPERTIES),
            "Slide 1\nRoadmap\nNotes: Ship in May\n",
            "slides",
        ),
        (
            "sales.xlsx",
            generate::xlsx(sheets, &PROPERTIES),
            "# Sales\nRegion\tUnits\nNorth\t12\n",
            "sheets",
        ),
        (
            "report.odt",
            generate::odt(&paragraphs, &PROPERTIES),
            "Quarterly revenue rose.\nCosts\tfell\n",
            "pages",
        ),
        (
            "deck.odp",
            generate::odp(slides, &PROPERTIES),
            "Slide 1\nRoadmap\nShip in May\n",
            "slides",
        ),
        (
            "sales.ods",
            generate::ods(sheets, &PROPERTIES),
            "# Sales\nRegion\tUnits\nNorth\t12\n",
            "sheets",
        ),
        (
            "book.epub",
            documents::epub(&[("Roadmap", &["Ship in May"]), ("Thanks", &[])], &PROPERTIES),
            "Roadmap\nShip in May\nThanks\n",
            "chapters",
        ),
        (
            "page.html",
            documents::html(&paragraphs, &PROPERTIES),
            "Quarterly revenue rose.\nCosts fell\n",
            "characters",
        ),
        (
            "letter.rtf",
            documents::rtf(&paragraphs, &PROPERTIES),
            "Quarterly revenue rose.\nCosts\tfell\n",
            "characters",
        ),
        (
            "message.eml",
            documents::eml(
                "Quarterly revenue rose.",
                &[("report.pdf", "application/pdf", b"%PDF-1.4\n%%EOF\n")],
                &PROPERTIES,
            ),
            "From: Ada Lovelace <ada@example.com>\nTo: ops@example.org\nDate: 2026-01-02T03:04:05Z\nSubject: Quarterly report\n\nQuarterly revenue rose.\n\nAttachments:\n- report.pdf (application/pdf, 15 bytes)\n",
            "characters",
        ),
    ];
    // The child's parts may inflate to common::limits()' stream limit: past it is a bomb.
    let bomb_body = format!(
        "<w:p><w:r><w:t>{}</w:t></w:r></w:p>",
        "a".repeat(common::limits().max_stream_bytes + 1)
    );
    let hostile: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "bomb.docx",
            generate::docx_with_body(&bomb_body, &PROPERTIES, 1),
            "decompression bomb",
        ),
        (
            "laughs.docx",
            generate::docx_with_body("<w:p><w:r><w:t>&lol9;</w:t></w:r></w:p>", &PROPERTIES, 1),
            "undefined entity",
        ),
        (
            "deep.docx",
            generate::docx_with_body(
                &format!("{}{}", "<w:sdt>".repeat(2000), "</w:sdt>".repeat(2000)),
                &PROPERTIES,
                1,
            ),
            "nest deeper than",
        ),
        (
            "strings.xlsx",
            generate::xlsx_with(
                sheets,
                &PROPERTIES,
                &"<si><t>0123456789abcdef</t></si>".repeat(common::limits().max_stream_bytes / 24),
            ),
            "shared-strings",
        ),
        (
            "bomb.epub",
            documents::epub_with_chapters(
                &[format!(
                    "<p>{}</p>",
                    "a".repeat(common::limits().max_stream_bytes)
                )],
                &PROPERTIES,
            ),
            "decompression bomb",
        ),
        (
            "deep.rtf",
            format!("{{\\rtf1 {}x{}}}", "{".repeat(2000), "}".repeat(2000)).into_bytes(),
            "nesting deeper than 512",
        ),
    ];
    let mut messages = Vec::new();
    for (name, bytes, ..) in &readable {
        let key = format!("uploads/documents/{name}");
        messages.push((key.clone(), fixture.upload(&key, bytes.clone()).await));
    }
    for (name, bytes, _) in &hostile {
        let key = format!("uploads/documents/{name}");
        messages.push((key.clone(), fixture.upload(&key, bytes.clone()).await));
    }
    let bodies: Vec<(&str, &str)> = messages
        .iter()
        .map(|(key, body)| (key.as_str(), body.as_str()))
        .collect();
    let response = fixture
        .extractor
        .handle_batch(batch(&bodies), invocation())
        .await;
    assert!(response.batch_item_failures.is_empty());

    for (name, _, text, count) in &readable {
        let key = format!("uploads/documents/{name}");
        let records = fixture.stage.records(&key).await;
        let [record] = records.as_slice() else {
            panic!("{key}: {records:?}")
        };
        assert_eq!(record.status, "SUCCEEDED", "{key}: {:?}", record.reason);
        let details = record.details.as_ref().expect("details");
        assert_eq!(details["kind"], name.rsplit('.').next().expect("extension"));
        assert_eq!(details["info"]["title"], PROPERTIES.title, "{key}");
        // A message's author is its From: the name and the address.
        assert!(
            details["info"]["author"]
                .as_str()
                .is_some_and(|author| author.starts_with(PROPERTIES.author)),
            "{key}: {details}"
        );
        assert!(
            details[*count].as_u64().is_some_and(|n| n >= 1),
            "{key}: {details}"
        );
        let attachments = usize::from(name.ends_with(".eml"));
        assert_eq!(record.outputs.len(), 2 + attachments, "{key}");
        let written = fixture
            .stage
            .s3
            .get_object()
            .bucket(&fixture.stage.bucket)
            .key(&record.outputs[0])
            .send()
            .await
            .expect("text output")
            .body
            .collect()
            .await
            .expect("body")
            .into_bytes();
        let written = String::from_utf8_lossy(&written);
        assert!(written.starts_with(text), "{key}: {written:?}");
        if name.ends_with(".eml") {
            assert_eq!(details["mail"]["attachments"][0]["name"], "report.pdf");
            assert_eq!(details["mail"]["to"][0], "ops@example.org");
            assert_reentered(&fixture, record, details).await;
        }
    }
    for (name, _, why) in &hostile {
        let key = format!("uploads/documents/{name}");
        let records = fixture.stage.records(&key).await;
        let [record] = records.as_slice() else {
            panic!("{key}: {records:?}")
        };
        assert_eq!(record.status, "FAILED", "{key}");
        let reason = record.reason.clone().unwrap_or_default();
        assert!(reason.contains(why), "{key}: {reason}");
    }
}

/// The e-mail's attachment was written where it re-enters the pipeline: its bytes, its type,
/// its provenance; writing it again (a redelivery) leaves the one version there is.
async fn assert_reentered(fixture: &Fixture, record: &audit::AuditEntry, details: &Value) {
    // The stage's bucket keeps no versions: no versionId in the key.
    let key = format!("processed/attachments/{}/1-report.pdf", record.key);
    assert_eq!(record.outputs[2], key);
    assert_eq!(details["mail"]["attachments"][0]["key"], key.as_str());
    assert!(details["mail"]["attachments"][0].get("contents").is_none());
    let s3 = &fixture.stage.s3;
    let bucket = &fixture.stage.bucket;
    let written = s3
        .get_object()
        .bucket(bucket)
        .key(&key)
        .send()
        .await
        .expect("the attachment");
    assert_eq!(written.content_type(), Some("application/pdf"));
    let metadata = written.metadata().cloned().unwrap_or_default();
    assert_eq!(
        metadata.get("source-key").map(String::as_str),
        Some("uploads%2Fdocuments%2Fmessage%2Eeml")
    );
    assert_eq!(
        metadata.get("correlation-id"),
        record.correlation_id.as_ref()
    );
    let bytes = written.body.collect().await.expect("body").into_bytes();
    assert_eq!(&bytes[..], b"%PDF-1.4\n%%EOF\n");

    let again = fixture
        .extractor
        .store
        .write_once(
            &Output::from_listed(&key, bucket),
            b"other bytes".to_vec(),
            "application/pdf",
            HashMap::new(),
        )
        .await
        .expect("a conditional write");
    assert!(!again, "an attachment already there is not written again");
    let versions = s3
        .list_object_versions()
        .bucket(bucket)
        .prefix(&key)
        .send()
        .await
        .expect("versions");
    assert_eq!(versions.versions().len(), 1);
}
