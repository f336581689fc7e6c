//! The three checker Lambdas against the emulator's S3, DynamoDB and SNS through the real SDK
//! clients: per-check records, one verdict, quarantine, redelivery and races.

use audit::{AuditEntry, RecorderSettings};
use compliance::checker::content::ContentChecker;
use compliance::checker::malware::MalwareChecker;
use compliance::checker::pii::{DocumentParser, PiiChecker};
use compliance::checker::Checker;
use compliance::config::{CheckerConfig, VerdictSettings};
use compliance::content::ContentPolicy;
use compliance::handler::{CheckerLambda, InUse};
use compliance::quarantine::{QuarantineMode, VerdictWriter};
use compliance::scan::{Scanner, EICAR};
use compliance::signature_store;
use compliance::tags::VerdictTags;
use compliance::verdict::{check_stage, CheckerSet, VERDICT_STAGE};
use extractor::isolate::Limits;
use notifications::SnsNotifier;
use object_events::{Dispatch, Origin, Run, Tier};
use std::path::PathBuf;
use std::time::Duration;
use testkit::pdf as documents;
use testkit::resources::object_tags;
use testkit::stage::WorkerStage;
use worker_common::s3::S3Store;

/// As deployed: every checker gets every object and judges it by its content.
const CHECKERS: &str = r#"{"content": [], "malware": [], "pii": []}"#;

struct Fixture {
    stage: WorkerStage,
    lambdas: Vec<CheckerLambda>,
}

fn parse_limits() -> Limits {
    Limits {
        max_stream_bytes: 16 << 20,
        ..Limits::new(1 << 30, Duration::from_secs(30))
    }
}

async fn fixture() -> Fixture {
    fixture_tagging_with("s3-triage").await
}

/// The checkers, writing verdict tags in the vocabulary `preset` names.
async fn fixture_tagging_with(preset: &str) -> Fixture {
    let stage = WorkerStage::new(VERDICT_STAGE).await;
    let verdicts = VerdictSettings {
        quarantine: QuarantineMode::Copy,
        tags: VerdictTags::parse(preset).expect("preset"),
    };
    // Signatures come from the bucket, as in production.
    stage
        .s3
        .put_object()
        .bucket(&stage.bucket)
        .key("config/signatures/test.ndb")
        .body(b"Test.Marker:0:*:54524941474554455354\n".to_vec().into())
        .send()
        .await
        .expect("signatures uploaded");
    let uri = format!("s3://{}/config/signatures/", stage.bucket);
    let (set, signatures) = signature_store::load(&stage.s3, &uri)
        .await
        .expect("signatures load");
    assert_eq!(signatures["signatures"], 1, "{signatures}");
    let store = S3Store {
        client: stage.s3.clone(),
    };
    let mut scanner = Some(Scanner::new(set).expect("compiles"));
    let mut lambdas = Vec::new();
    for name in ["content", "malware", "pii"] {
        let checker: Box<dyn Checker> = match name {
            "malware" => Box::new(MalwareChecker {
                scanner: scanner.take().expect("one scanner"),
                signatures: signatures.clone(),
            }),
            "content" => Box::new(ContentChecker {
                policy: ContentPolicy::default(),
                max_archive_bytes: 1 << 20,
            }),
            _ => Box::new(PiiChecker {
                parser: Some(DocumentParser {
                    program: PathBuf::from(env!("CARGO_BIN_EXE_compliance-checker")),
                    limits: parse_limits(),
                }),
                max_document_bytes: 1 << 20,
            }),
        };
        let settings = |worker: String| RecorderSettings {
            worker,
            ..stage.recorder_settings()
        };
        lambdas.push(CheckerLambda {
            store: store.clone(),
            recorder: SnsNotifier::recorder(&stage.aws.config, settings(check_stage(name))),
            verdicts: VerdictWriter::deployed(
                &stage.aws.config,
                &stage.recorder_settings(),
                store.clone(),
                &verdicts,
                &worker_common::outputs::Outputs::in_place("processed/"),
            ),
            checker: InUse::new(checker),
            config: CheckerConfig {
                checker: name,
                checkers: CheckerSet::parse(CHECKERS).expect("valid"),
                recorder: settings(check_stage(name)),
                signatures_uri: Some(uri.clone()),
                verdicts: verdicts.clone(),
                outputs: worker_common::outputs::Outputs::in_place("processed/"),
                concurrency: 2,
                max_held_bytes: 1 << 20,
                parse: parse_limits(),
                signatures_refresh: Duration::from_secs(300),
            },
        });
    }
    Fixture { stage, lambdas }
}

impl Fixture {
    async fn upload(&self, key: &str, bytes: &[u8]) -> String {
        let dispatch = self
            .stage
            .upload(key, bytes.to_vec(), Tier::Compliance)
            .await;
        serde_json::to_string(&dispatch).expect("JSON")
    }

    /// Every checker handles the message, one after the other.
    async fn check_all(&self, body: &str) {
        for lambda in &self.lambdas {
            lambda
                .handle_message(body.to_owned())
                .await
                .expect("handled");
        }
    }

    async fn stages(&self, key: &str) -> Vec<AuditEntry> {
        self.stage
            .trail
            .object_history(&self.stage.bucket, key)
            .await
            .expect("history")
    }

    async fn entry(&self, key: &str, stage: &str) -> AuditEntry {
        let stages = self.stages(key).await;
        stages
            .into_iter()
            .find(|e| e.stage == stage)
            .unwrap_or_else(|| panic!("{key}: no {stage} record"))
    }

    /// (stage, status, outcome) of every notification since the last call, sorted.
    async fn notifications(&self) -> Vec<(String, String, String)> {
        let mut seen: Vec<(String, String, String)> = self
            .stage
            .aws
            .drain(&self.stage.notifications)
            .await
            .iter()
            .map(|body| {
                let envelope: serde_json::Value = serde_json::from_str(body).expect("SNS envelope");
                let attribute = |name: &str| {
                    envelope["MessageAttributes"][name]["Value"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned()
                };
                (
                    attribute("stage"),
                    attribute("status"),
                    attribute("outcome"),
                )
            })
            .collect();
        seen.sort();
        seen
    }

    async fn tags(&self, key: &str) -> Vec<(String, String)> {
        object_tags(&self.stage.s3, &self.stage.bucket, key).await
    }
}

fn triple(stage: &str, status: &str, outcome: &str) -> (String, String, String) {
    (stage.into(), status.into(), outcome.into())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clean_file_gets_three_clean_checks_and_one_clean_verdict_even_when_redelivered() {
    let fixture = fixture().await;
    let key = "uploads/compliance/minutes.txt";
    let body = fixture
        .upload(key, b"Minutes: the team agreed to ship on Friday.\n")
        .await;
    fixture.check_all(&body).await;
    fixture.check_all(&body).await;
    let stages = fixture.stages(key).await;
    let mut recorded: Vec<(String, String)> = stages
        .iter()
        .map(|e| (e.stage.clone(), e.status.clone()))
        .collect();
    recorded.sort();
    assert_eq!(
        recorded,
        [
            ("compliance".into(), "CLEAN".into()),
            ("compliance.content".into(), "CLEAN".into()),
            ("compliance.malware".into(), "CLEAN".into()),
            ("compliance.pii".into(), "CLEAN".into()),
        ]
    );
    let malware = fixture.entry(key, "compliance.malware").await;
    let details = malware.details.expect("details");
    assert_eq!(details["provenance"]["signatures"]["signatures"], 1);
    assert!(
        details["provenance"]["signatures"]["files"]["config/signatures/test.ndb"].is_string(),
        "the signature file's version is recorded: {details}"
    );
    assert_eq!(
        fixture.tags(key).await,
        [("s3-triage-verdict".to_owned(), "clean".to_owned())],
        "the clean verdict is on the object, where the gate reads it"
    );
    assert_eq!(
        fixture.notifications().await,
        [
            triple("compliance", "CLEAN", "success"),
            triple("compliance.content", "CLEAN", "success"),
            triple("compliance.malware", "CLEAN", "success"),
            triple("compliance.pii", "CLEAN", "success"),
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eicar_is_infected_tagged_and_quarantined_with_a_failure_notification() {
    let fixture = fixture().await;
    let key = "uploads/compliance/test file+eicar.txt";
    let body = fixture.upload(key, EICAR).await;
    // All three at once: both orders of finishing, and the verdict still written once.
    let (a, b, c) = tokio::join!(
        fixture.lambdas[0].handle_message(body.clone()),
        fixture.lambdas[1].handle_message(body.clone()),
        fixture.lambdas[2].handle_message(body.clone()),
    );
    for outcome in [a, b, c] {
        outcome.expect("handled");
    }
    // Whichever checkers saw the set incomplete, a redelivery concludes it.
    fixture.check_all(&body).await;
    let verdict = fixture.entry(key, VERDICT_STAGE).await;
    assert_eq!(verdict.status, "INFECTED");
    assert!(
        verdict
            .reason
            .as_deref()
            .is_some_and(|r| r.contains("malware: signatures matched: Eicar-Test-Signature")),
        "{:?}",
        verdict.reason
    );
    let copy = format!("processed/quarantine/{key}/{}", "test file+eicar.txt");
    assert_eq!(verdict.outputs, std::slice::from_ref(&copy));
    let infected = vec![("s3-triage-verdict".to_owned(), "infected".to_owned())];
    assert_eq!(fixture.tags(key).await, infected);
    assert_eq!(fixture.tags(&copy).await, infected);
    let stored = fixture
        .stage
        .s3
        .get_object()
        .bucket(&fixture.stage.bucket)
        .key(&copy)
        .send()
        .await
        .expect("quarantined copy");
    let bytes = stored.body.collect().await.expect("body").into_bytes();
    assert_eq!(&bytes[..], EICAR);
    let notifications = fixture.notifications().await;
    let verdicts: Vec<_> = notifications
        .iter()
        .filter(|(stage, _, _)| stage == VERDICT_STAGE)
        .collect();
    assert_eq!(verdicts, [&triple("compliance", "INFECTED", "failure")]);
    assert_eq!(notifications.len(), 4, "{notifications:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eicar_inside_a_zip_inside_a_tar_gz_is_infected_by_its_path_and_an_encrypted_zip_is_not_clean(
) {
    use testkit::archives::{gzip, tar, zip, ZipStyle};
    let fixture = fixture().await;
    let eicar_zip = zip(&[("eicar.com", EICAR)], ZipStyle::DEFLATE);
    let key = "uploads/compliance/bundle.tar.gz";
    let body = fixture
        .upload(key, &gzip(&tar(&[("eicar.zip", &eicar_zip)]), None))
        .await;
    fixture.check_all(&body).await;
    let malware = fixture.entry(key, "compliance.malware").await;
    assert_eq!(malware.status, "INFECTED");
    assert_eq!(
        malware.reason.as_deref(),
        Some(
            "signatures matched: Eicar-Test-Signature in \
             bundle.tar.gz!bundle.tar!eicar.zip!eicar.com"
        )
    );
    assert_eq!(fixture.entry(key, VERDICT_STAGE).await.status, "INFECTED");

    let key = "uploads/compliance/sealed.zip";
    let sealed = zip(
        &[("report.exe", b"ciphertext".as_slice())],
        ZipStyle {
            encrypted: true,
            ..ZipStyle::STORED
        },
    );
    let body = fixture.upload(key, &sealed).await;
    fixture.check_all(&body).await;
    let malware = fixture.entry(key, "compliance.malware").await;
    assert_eq!(malware.status, "UNSUPPORTED");
    assert_eq!(
        malware.reason.as_deref(),
        Some("not scanned: sealed.zip!report.exe: encrypted: not scanned")
    );
    assert_ne!(fixture.entry(key, VERDICT_STAGE).await.status, "CLEAN");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eicar_attached_to_an_e_mail_in_base64_is_infected_by_its_attachments_name() {
    let fixture = fixture().await;
    let mail = testkit::documents::eml(
        "The invoice is attached.",
        &[("invoice.com", "application/octet-stream", EICAR)],
        &testkit::office::PROPERTIES,
    );
    let key = "uploads/compliance/invoice.eml";
    let body = fixture.upload(key, &mail).await;
    fixture.check_all(&body).await;
    let malware = fixture.entry(key, "compliance.malware").await;
    assert_eq!(malware.status, "INFECTED");
    assert_eq!(
        malware.reason.as_deref(),
        Some("signatures matched: Eicar-Test-Signature in invoice.eml!invoice.com")
    );
    assert_eq!(fixture.entry(key, VERDICT_STAGE).await.status, "INFECTED");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn personal_data_is_flagged_by_count_and_offset_never_by_value() {
    let fixture = fixture().await;
    let csv = b"name,email,card\nAda Example,ada@example.com,4111 1111 1111 1111\nBob,n/a,4111 1111 1111 1112\n";
    let key = "uploads/compliance/customers.csv";
    let body = fixture.upload(key, csv).await;
    fixture.check_all(&body).await;
    let pii = fixture.entry(key, "compliance.pii").await;
    assert_eq!(pii.status, "FLAGGED");
    let details = pii.details.expect("details");
    assert_eq!(details["found"]["email"]["count"], 1);
    assert_eq!(details["found"]["email"]["offsets"][0], 28);
    // The second card fails the Luhn check.
    assert_eq!(details["found"]["payment_card"]["count"], 1);
    let stored = details.to_string() + pii.reason.as_deref().unwrap_or_default();
    assert!(
        !stored.contains("ada@example.com") && !stored.contains("4111"),
        "{stored}"
    );
    let verdict = fixture.entry(key, VERDICT_STAGE).await;
    assert_eq!(verdict.status, "FLAGGED");
    assert_eq!(
        fixture.tags(key).await,
        [("s3-triage-verdict".to_owned(), "flagged".to_owned())]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn personal_data_is_found_by_content_whatever_the_extension() {
    let fixture = fixture().await;
    let key = "uploads/compliance/customers.dat";
    let body = fixture
        .upload(key, b"Ada Example;ada@example.com;4111 1111 1111 1111\n")
        .await;
    fixture.check_all(&body).await;
    let pii = fixture.entry(key, "compliance.pii").await;
    assert_eq!(pii.status, "FLAGGED");
    let details = pii.details.expect("details");
    assert_eq!(details["found"]["email"]["count"], 1);
    assert_eq!(details["found"]["payment_card"]["count"], 1);
    assert_eq!(fixture.entry(key, VERDICT_STAGE).await.status, "FLAGGED");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eicar_under_a_1000_byte_name_is_tagged_and_quarantined() {
    let fixture = fixture().await;
    let name = format!("{}.txt", "n".repeat(1000 - 4));
    let key = format!("uploads/compliance/{name}");
    let body = fixture.upload(&key, EICAR).await;
    fixture.check_all(&body).await;
    let verdict = fixture.entry(&key, VERDICT_STAGE).await;
    assert_eq!(verdict.status, "INFECTED");
    assert_eq!(
        fixture.tags(&key).await,
        [("s3-triage-verdict".to_owned(), "infected".to_owned())]
    );
    let copy = &verdict.outputs[0];
    assert!(copy.len() <= 1024, "{} bytes", copy.len());
    assert!(
        copy.starts_with("processed/quarantine/by-hash/") && copy.ends_with(".txt"),
        "{copy}"
    );
    assert_eq!(
        fixture.tags(copy).await,
        [("s3-triage-verdict".to_owned(), "infected".to_owned())]
    );
    assert!(
        !verdict
            .reason
            .unwrap_or_default()
            .contains("not quarantined"),
        "the copy was made"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bucket_antivirus_preset_adds_its_tags_to_the_users_own() {
    let fixture = fixture_tagging_with("bucket-antivirus").await;
    let key = "uploads/compliance/eicar.com";
    fixture
        .stage
        .s3
        .put_object()
        .bucket(&fixture.stage.bucket)
        .key(key)
        .tagging("project=apollo&owner=ada")
        .body(EICAR.to_vec().into())
        .send()
        .await
        .expect("uploaded with tags");
    let dispatch = fixture
        .stage
        .dispatch(key, EICAR.len() as u64, None, Tier::Compliance);
    let head = fixture
        .stage
        .s3
        .head_object()
        .bucket(&fixture.stage.bucket)
        .key(key)
        .send()
        .await
        .expect("head");
    let mut dispatch = dispatch;
    dispatch.object.etag = head.e_tag().map(|etag| etag.trim_matches('"').to_owned());
    let body = serde_json::to_string(&dispatch).expect("JSON");
    fixture.check_all(&body).await;
    let mut tags = fixture.tags(key).await;
    tags.sort();
    let names: Vec<(&str, &str)> = tags.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(
        names
            .iter()
            .filter(|(key, _)| *key != "av-timestamp")
            .copied()
            .collect::<Vec<_>>(),
        [
            ("av-signature", "Eicar-Test-Signature"),
            ("av-status", "INFECTED"),
            ("owner", "ada"),
            ("project", "apollo")
        ]
    );
    assert!(names
        .iter()
        .any(|(key, value)| *key == "av-timestamp" && value.ends_with(" UTC")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_object_whose_own_tags_leave_no_room_keeps_its_verdict_record_and_says_so() {
    let fixture = fixture().await;
    let key = "uploads/compliance/tagged.txt";
    let own: Vec<String> = (0..10).map(|n| format!("t{n}=v")).collect();
    let put = fixture
        .stage
        .s3
        .put_object()
        .bucket(&fixture.stage.bucket)
        .key(key)
        .tagging(own.join("&"))
        .body(b"plain words".to_vec().into())
        .send()
        .await
        .expect("uploaded");
    let etag = put.e_tag().map(|etag| etag.trim_matches('"').to_owned());
    let dispatch = fixture.stage.dispatch(key, 11, etag, Tier::Compliance);
    fixture
        .check_all(&serde_json::to_string(&dispatch).expect("JSON"))
        .await;
    let verdict = fixture.entry(key, VERDICT_STAGE).await;
    assert_eq!(verdict.status, "CLEAN");
    let reason = verdict.reason.unwrap_or_default();
    assert!(
        reason.starts_with("not tagged: the object carries 10 tags of its own"),
        "{reason}"
    );
    assert_eq!(
        fixture.tags(key).await.len(),
        10,
        "the user's tags are untouched"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_content_holds_no_text_to_check_and_an_executable_is_flagged() {
    let fixture = fixture().await;
    let key = "uploads/compliance/holiday.jpg";
    let body = fixture
        .upload(key, b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x02\0\x3e\0")
        .await;
    fixture.check_all(&body).await;
    let pii = fixture.entry(key, "compliance.pii").await;
    assert_eq!(pii.status, "CLEAN");
    let pii_details = pii.details.expect("details");
    assert_eq!(pii_details["holds_text"], false);
    // Too short for infer's ELF matcher: binary, of no type it names.
    assert_eq!(pii_details["content_type"], "application/octet-stream");
    let content = fixture.entry(key, "compliance.content").await;
    assert_eq!(content.status, "FLAGGED");
    let reason = content.reason.unwrap_or_default();
    assert!(reason.contains("executable (ELF)"), "{reason}");
    let verdict = fixture.entry(key, VERDICT_STAGE).await;
    assert_eq!(
        (
            verdict.status.as_str(),
            verdict.details.expect("details")["checks"].clone()
        ),
        (
            "FLAGGED",
            serde_json::json!({"content": "FLAGGED", "malware": "CLEAN", "pii": "CLEAN"})
        )
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_document_is_checked_through_its_extracted_text_and_an_unreadable_one_is_not_called_clean(
) {
    let fixture = fixture().await;
    let pii = &fixture.lambdas[2];
    let key = "uploads/compliance/contract.pdf";
    let body = fixture
        .upload(
            key,
            &documents::pdf("Contact ada@example.com about SSN 123-45-6789"),
        )
        .await;
    pii.handle_message(body.clone()).await.expect("handled");
    let record = fixture.entry(key, "compliance.pii").await;
    assert_eq!(record.status, "FLAGGED");
    let details = record.details.expect("details");
    assert_eq!(details["scanned"], "extracted text");
    assert_eq!(details["found"]["email"]["count"], 1);
    assert_eq!(details["found"]["us_ssn"]["count"], 1);

    // Office, OpenDocument, EPUB, RTF and e-mail files are read through their text the same
    // way (the message's addresses are its From and To); a zip that is no document holds no
    // text of its own.
    use testkit::office::{self as office, PROPERTIES};
    let sheet: &[&[&str]] = &[&["name", "email"], &["Ada", "ada@example.com"]];
    for (key, bytes, addresses) in [
        (
            "uploads/compliance/contract.docx",
            office::docx(&["Contact ada@example.com", "SSN 123-45-6789"], &PROPERTIES),
            1,
        ),
        (
            "uploads/compliance/contacts.xlsx",
            office::xlsx(&[("People", sheet)], &PROPERTIES),
            1,
        ),
        (
            "uploads/compliance/contacts.ods",
            office::ods(&[("People", sheet)], &PROPERTIES),
            1,
        ),
        (
            "uploads/compliance/book.epub",
            testkit::documents::epub(&[("Contacts", &["Write to ada@example.com"])], &PROPERTIES),
            1,
        ),
        (
            "uploads/compliance/letter.rtf",
            testkit::documents::rtf(&["Write to ada@example.com"], &PROPERTIES),
            1,
        ),
        (
            "uploads/compliance/message.eml",
            testkit::documents::eml("SSN 123-45-6789", &[], &PROPERTIES),
            2,
        ),
    ] {
        let body = fixture.upload(key, &bytes).await;
        pii.handle_message(body).await.expect("handled");
        let record = fixture.entry(key, "compliance.pii").await;
        assert_eq!(record.status, "FLAGGED", "{key}");
        let details = record.details.expect("details");
        assert_eq!(details["scanned"], "extracted text", "{key}");
        assert_eq!(details["found"]["email"]["count"], addresses, "{key}");
    }
    // An e-mail's attachments are read for their text too: a PDF through the parser, a CSV as
    // it is. One that cannot be read is named, and the check is not clean for it.
    let key = "uploads/compliance/forwarded.eml";
    let mail = testkit::documents::eml(
        "See the attached files.",
        &[
            (
                "ssn.pdf",
                "application/pdf",
                &documents::pdf("SSN 123-45-6789"),
            ),
            (
                "cards.csv",
                "text/csv",
                b"name,card\nAda,4111111111111111\n",
            ),
        ],
        &PROPERTIES,
    );
    let body = fixture.upload(key, &mail).await;
    pii.handle_message(body).await.expect("handled");
    let record = fixture.entry(key, "compliance.pii").await;
    assert_eq!(record.status, "FLAGGED");
    let details = record.details.expect("details");
    assert_eq!(details["found"]["us_ssn"]["count"], 1, "{details}");
    assert_eq!(details["found"]["payment_card"]["count"], 1, "{details}");
    assert!(
        details.get("attachments_not_checked").is_none(),
        "{details}"
    );
    let (_, truncated) = documents::hostile_documents().swap_remove(0);
    let key = "uploads/compliance/unreadable attachment.eml";
    let mail = testkit::documents::eml(
        "See the attached file.",
        &[("truncated.pdf", "application/pdf", &truncated)],
        &PROPERTIES,
    );
    let body = fixture.upload(key, &mail).await;
    pii.handle_message(body).await.expect("handled");
    let record = fixture.entry(key, "compliance.pii").await;
    let reason = record.reason.unwrap_or_default();
    assert!(
        reason.contains("attachments not checked for personal data: truncated.pdf: "),
        "{reason}"
    );
    assert_ne!(record.status, "CLEAN");

    let key = "uploads/compliance/photos.zip";
    let body = fixture
        .upload(
            key,
            &testkit::archives::zip(
                &[("a.txt", b"ada@example.com")],
                testkit::archives::ZipStyle::DEFLATE,
            ),
        )
        .await;
    pii.handle_message(body).await.expect("handled");
    let record = fixture.entry(key, "compliance.pii").await;
    assert_eq!(record.status, "CLEAN");
    assert_eq!(record.details.expect("details")["holds_text"], false);

    let (_, truncated) = documents::hostile_documents().swap_remove(0);
    let key = "uploads/compliance/truncated.pdf";
    let body = fixture.upload(key, &truncated).await;
    pii.handle_message(body.clone()).await.expect("handled");
    let record = fixture.entry(key, "compliance.pii").await;
    assert_eq!(record.status, "FLAGGED");
    let reason = record.reason.unwrap_or_default();
    assert!(
        reason.contains("could not be read, so it was not checked"),
        "{reason}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clean_file_rescanned_under_a_signature_that_matches_it_is_infected_and_quarantined() {
    let fixture = fixture().await;
    let key = "uploads/compliance/invoice.txt";
    let body = fixture
        .upload(key, b"Invoice 2026-114: pay to NEWTHREAT account.\n")
        .await;
    fixture.check_all(&body).await;
    assert_eq!(fixture.entry(key, VERDICT_STAGE).await.status, "CLEAN");
    fixture.notifications().await;

    // A signature version that matches it, while the checkers are warm with the old set.
    fixture
        .stage
        .s3
        .put_object()
        .bucket(&fixture.stage.bucket)
        .key("config/signatures/2026-12.ndb")
        .body(b"New.Threat:0:*:4e45575448524541\n".to_vec().into())
        .send()
        .await
        .expect("signatures uploaded");
    let mut rescan: Dispatch = serde_json::from_str(&body).expect("dispatch");
    rescan.object.origin = Origin::Rescan;
    rescan.object.run = Run::requested(chrono::Utc::now(), "rescan --since 30d");
    let rescan = serde_json::to_string(&rescan).expect("JSON");
    // Delivered twice, as SQS may: one record per stage of the run all the same.
    fixture.check_all(&rescan).await;
    fixture.check_all(&rescan).await;

    let latest: Vec<AuditEntry> = fixture
        .stages(key)
        .await
        .into_iter()
        .filter(|entry| entry.superseded_by.is_none())
        .collect();
    let mut outcomes: Vec<(String, String, Option<String>)> = latest
        .iter()
        .map(|entry| {
            (
                entry.stage.clone(),
                entry.status.clone(),
                entry.origin.clone(),
            )
        })
        .collect();
    outcomes.sort();
    let rescanned = Some("rescan".to_owned());
    assert_eq!(
        outcomes,
        [
            ("compliance".into(), "INFECTED".into(), rescanned.clone()),
            ("compliance.content".into(), "CLEAN".into(), None),
            ("compliance.malware".into(), "INFECTED".into(), rescanned),
            ("compliance.pii".into(), "CLEAN".into(), None),
        ],
        "only the malware check ran again"
    );
    let malware = latest
        .iter()
        .find(|entry| entry.stage == "compliance.malware")
        .expect("the rescan's malware record");
    let files = malware
        .details
        .as_ref()
        .and_then(|details| details.pointer("/provenance/signatures/files"))
        .cloned()
        .unwrap_or_default();
    assert!(
        files.get("config/signatures/2026-12.ndb").is_some(),
        "judged under the new set: {files}"
    );
    let infected = vec![("s3-triage-verdict".to_owned(), "infected".to_owned())];
    assert_eq!(fixture.tags(key).await, infected);
    let copy = format!("processed/quarantine/{key}/invoice.txt");
    assert_eq!(fixture.tags(&copy).await, infected);
    assert_eq!(
        fixture.notifications().await,
        [
            triple("compliance", "INFECTED", "failure"),
            triple("compliance.malware", "INFECTED", "failure"),
        ]
    );
}
