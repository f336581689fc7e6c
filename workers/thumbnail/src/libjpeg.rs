//! libjpeg's messages, heard. The mozjpeg crate's error manager silences every warning, so a
//! truncated JPEG (libjpeg pads the missing rows with grey and warns "Premature end of JPEG
//! file") decodes as if whole. This one keeps the first warning for the fail-on policy and
//! looks at the clock and the scan count at the start of every scan, so a progressive JPEG of
//! endless scans stops at its deadline instead of running to the Lambda timeout.
//!
//! Decoding runs on one thread; what the manager hears lives in that thread's [`WATCH`]. A
//! stop unwinds out of libjpeg (the `C-unwind` ABI the mozjpeg crate already uses for fatal
//! errors) carrying a [`Stop`].

use crate::decode::panic_message;
use mozjpeg_sys::{jpeg_common_struct, jpeg_error_mgr, jpeg_std_error, JTRC_SOS, JWRN_JPEG_EOF};
use std::cell::RefCell;
use std::os::raw::c_int;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::time::Instant;

/// Which damage fails a decode, as sharp's `failOn`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailOn {
    /// Keep libjpeg's recovery (grey rows, skipped bytes); the outcome notes the damage.
    None,
    /// Fail a file that ends early; other recovered damage is noted.
    Truncated,
    /// Fail any damage the decoder warns of (truncation, corrupt entropy data, bad markers).
    Warning,
}

impl FailOn {
    pub fn parse(text: &str) -> Option<Self> {
        match text.to_ascii_lowercase().as_str() {
            "none" => Some(Self::None),
            "truncated" => Some(Self::Truncated),
            "warning" => Some(Self::Warning),
            _ => None,
        }
    }

    fn fails(self, damage: &Damage) -> bool {
        match self {
            Self::None => false,
            Self::Truncated => damage.truncated,
            Self::Warning => true,
        }
    }
}

/// Damage libjpeg recovered from: its first warning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Damage {
    pub truncated: bool,
    pub message: String,
}

/// What ended a decode from inside libjpeg.
#[derive(Debug)]
pub enum Stop {
    Fatal(String),
    Damaged(Damage),
    Deadline,
    TooManyScans(u32),
}

/// What one decode may spend.
#[derive(Debug, Clone, Copy)]
pub struct Watch {
    pub fail_on: FailOn,
    pub deadline: Instant,
    /// libjpeg-turbo's djpeg offers the same guard (`-maxscans`): a real progressive JPEG
    /// has about ten scans, a hostile one thousands, each a pass over every coefficient.
    pub max_scans: u32,
}

struct Heard {
    watch: Watch,
    scans: u32,
    damage: Option<Damage>,
}

thread_local! {
    static WATCH: RefCell<Option<Heard>> = const { RefCell::new(None) };
}

/// An error manager that hears; give it to `Decompress::builder().with_err`.
pub fn error_manager() -> jpeg_error_mgr {
    // SAFETY: jpeg_std_error fills in every field of the zeroed struct.
    let mut manager: jpeg_error_mgr = unsafe { std::mem::zeroed() };
    unsafe { jpeg_std_error(&mut manager) };
    manager.error_exit = Some(error_exit);
    manager.emit_message = Some(emit_message);
    manager
}

/// Runs `decode` (which uses [`error_manager`]) under `watch`: `Ok` with the damage it
/// recovered from, or the [`Stop`] that ended it. A panic that is not a stop is a fatal error.
pub fn watched<T>(watch: Watch, decode: impl FnOnce() -> T) -> Result<(T, Option<Damage>), Stop> {
    WATCH.with(|heard| {
        *heard.borrow_mut() = Some(Heard {
            watch,
            scans: 0,
            damage: None,
        })
    });
    let outcome = catch_unwind(AssertUnwindSafe(decode));
    let heard = WATCH.with(|heard| heard.borrow_mut().take());
    match outcome {
        Ok(value) => Ok((value, heard.and_then(|heard| heard.damage))),
        Err(panic) => Err(match panic.downcast::<Stop>() {
            Ok(stop) => *stop,
            Err(other) => Stop::Fatal(panic_message(&other)),
        }),
    }
}

fn message(cinfo: &mut jpeg_common_struct) -> String {
    // SAFETY: libjpeg passes its own struct, whose `err` is the manager it was built with.
    let manager = unsafe { &*cinfo.err };
    let Some(format) = manager.format_message else {
        return format!("libjpeg message {}", manager.msg_code);
    };
    let mut buffer = [0u8; 80];
    // SAFETY: format_message writes at most JMSG_LENGTH_MAX (80) bytes, NUL-terminated; the
    // binding declares the buffer shared, libjpeg writes it (the mozjpeg crate casts the same).
    unsafe {
        let format: unsafe extern "C-unwind" fn(&mut jpeg_common_struct, &mut [u8; 80]) =
            std::mem::transmute(format);
        format(cinfo, &mut buffer);
    }
    let text = buffer.split(|&byte| byte == 0).next().unwrap_or_default();
    String::from_utf8_lossy(text).into_owned()
}

extern "C-unwind" fn error_exit(cinfo: &mut jpeg_common_struct) {
    resume_unwind(Box::new(Stop::Fatal(message(cinfo))));
}

extern "C-unwind" fn emit_message(cinfo: &mut jpeg_common_struct, level: c_int) {
    // SAFETY: as in `message`.
    let code = unsafe { (*cinfo.err).msg_code };
    let stop = if level < 0 {
        let damage = Damage {
            truncated: code == JWRN_JPEG_EOF as c_int,
            message: message(cinfo),
        };
        WATCH.with(|heard| {
            let mut heard = heard.borrow_mut();
            let heard = heard.as_mut()?;
            if heard.watch.fail_on.fails(&damage) {
                return Some(Stop::Damaged(damage));
            }
            heard.damage.get_or_insert(damage);
            None
        })
    } else if code == JTRC_SOS as c_int {
        WATCH.with(|heard| {
            let mut heard = heard.borrow_mut();
            let heard = heard.as_mut()?;
            heard.scans += 1;
            if Instant::now() >= heard.watch.deadline {
                Some(Stop::Deadline)
            } else if heard.scans > heard.watch.max_scans {
                Some(Stop::TooManyScans(heard.watch.max_scans))
            } else {
                None
            }
        })
    } else {
        None
    };
    if let Some(stop) = stop {
        resume_unwind(Box::new(stop));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fail_on_reads_sharps_names_and_judges_damage() {
        let truncated = Damage {
            truncated: true,
            message: "Premature end of JPEG file".into(),
        };
        let corrupt = Damage {
            truncated: false,
            message: "Corrupt JPEG data: 3 extraneous bytes before marker 0xd9".into(),
        };
        assert_eq!(FailOn::parse("None"), Some(FailOn::None));
        assert_eq!(FailOn::parse("error"), None);
        assert!(!FailOn::None.fails(&truncated));
        assert!(FailOn::Truncated.fails(&truncated));
        assert!(!FailOn::Truncated.fails(&corrupt));
        assert!(FailOn::Warning.fails(&corrupt));
    }
}
