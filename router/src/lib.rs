pub mod batch_operations;
pub mod config;
pub mod dispatch;
pub mod fleet;
pub mod handler;
pub mod policy;
pub mod verdict;
pub mod versions;
