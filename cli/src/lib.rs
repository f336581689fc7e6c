//! The `triage` CLI's library side: the local executor that plays Lambda (and, later, Fargate)
//! for the emulator, which stores functions and event sources but runs nothing.

pub mod executor;
