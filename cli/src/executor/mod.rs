//! Runs what the emulator can only record. [`lambda::FunctionHost`] runs one function's real
//! binary against a Lambda Runtime API it serves; [`sqs::SqsEventSource`] feeds it an SQS
//! queue as a Lambda event source mapping would.

pub mod lambda;
pub mod sqs;
