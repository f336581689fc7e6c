//! The sweeper Lambda's settings; the sweep itself is [`audit::sweep`].

pub mod config;
