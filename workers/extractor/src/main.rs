//! The extractor binary. For now it is the per-document parser child (see
//! [`extractor::isolate`]); the Lambda entry point comes with the SQS handler.

use extractor::isolate::{child_main, CHILD_ARG};

fn main() {
    let mut args = std::env::args().skip(1);
    match (
        args.next().as_deref(),
        args.next().map(|n| n.parse::<usize>()),
    ) {
        (Some(CHILD_ARG), Some(Ok(max_stream_bytes))) => {
            std::process::exit(child_main(max_stream_bytes))
        }
        _ => {
            eprintln!("usage: extractor {CHILD_ARG} <max stream bytes>  (document on stdin, JSON on stdout)");
            std::process::exit(2);
        }
    }
}
