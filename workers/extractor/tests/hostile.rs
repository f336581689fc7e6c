//! Hostile documents cost only themselves: each parse runs in a child process of the
//! extractor binary, with a memory limit and a deadline. (Ten documents with three hostile
//! ones through the batch handler: `extractor_emulated.rs`.)

mod common;

use common::limits;
use extractor::document::{Kind, ParseError};
use extractor::isolate::{parse_isolated, IsolationError, Limits};
use extractor::pdf::PdfError;
use std::path::Path;
use std::time::Duration;
use testkit::pdf::{huge_xref, inflation_bomb, pdf, Built};

#[test]
fn a_parse_over_its_deadline_is_stopped() {
    let program = Path::new(env!("CARGO_BIN_EXE_extractor"));
    let tight = Limits {
        timeout: Duration::from_millis(1),
        ..limits()
    };
    let big = Built::numbered_pages(400).save();
    assert!(matches!(
        parse_isolated(program, big, Kind::Pdf, &tight),
        Err(IsolationError::TimedOut(_))
    ));
}

#[test]
fn a_parser_that_runs_out_of_memory_costs_only_its_document() {
    let program = Path::new(env!("CARGO_BIN_EXE_extractor"));
    // The stream limit allows the 100 MB inflation; the child's 64 MiB address space does not.
    let starved = Limits {
        memory_bytes: 64 << 20,
        max_stream_bytes: 1 << 30,
        ..limits()
    };
    let outcome = parse_isolated(program, inflation_bomb(), Kind::Pdf, &starved);
    assert!(
        matches!(outcome, Err(IsolationError::Crashed(_))),
        "{outcome:?}"
    );
    // The next document is parsed as if nothing happened.
    let fine = parse_isolated(program, pdf("still here"), Kind::Pdf, &limits()).expect("parsed");
    assert!(fine.text().contains("still here"));
}

#[test]
fn a_stream_that_inflates_past_the_limit_is_refused() {
    let program = Path::new(env!("CARGO_BIN_EXE_extractor"));
    let outcome = parse_isolated(program, inflation_bomb(), Kind::Pdf, &limits());
    assert!(
        matches!(outcome, Err(IsolationError::Document(ParseError::Pdf(_)))),
        "{outcome:?}"
    );
}

#[test]
fn a_huge_xref_claim_allocates_nothing_and_fails_on_its_page_tree() {
    let program = Path::new(env!("CARGO_BIN_EXE_extractor"));
    // 64 MiB of address space: far less than a table of 2^31 entries would need.
    let small = Limits {
        memory_bytes: 64 << 20,
        ..limits()
    };
    let outcome = parse_isolated(program, huge_xref(), Kind::Pdf, &small);
    assert!(
        matches!(
            outcome,
            Err(IsolationError::Document(ParseError::Pdf(PdfError::NoPages)))
        ),
        "{outcome:?}"
    );
}
